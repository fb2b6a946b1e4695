/**
 * The input schemas a server's own tools/list answers gave, for validate_input. Only answers
 * from the upstream to a tools/list the proxy relayed or sent itself come here, never anything
 * the client sent. A listing counts as complete once its last page arrived; until then what the
 * pages so far named is known and the rest is fetched before a validated call is decided.
 */
type Schema = Record<string, unknown>;

interface ServerSchemas {
  /** The last listing read to its end. */
  complete: Map<string, Schema> | undefined;
  /** Every tool any page named since the server last said its list changed. */
  seen: Map<string, Schema>;
}

export function schemasOf(tools: readonly unknown[]): Map<string, Schema> {
  const schemas = new Map<string, Schema>();
  for (const tool of tools) {
    const entry = tool as { name?: unknown; inputSchema?: unknown } | null;
    if (typeof entry?.name === 'string' && entry.inputSchema && typeof entry.inputSchema === 'object' && !Array.isArray(entry.inputSchema)) {
      schemas.set(entry.name, entry.inputSchema as Schema);
    }
  }
  return schemas;
}

export class UpstreamSchemas {
  private readonly servers = new Map<string, ServerSchemas>();

  private of(server: string): ServerSchemas {
    let known = this.servers.get(server);
    if (!known) {
      known = { complete: undefined, seen: new Map() };
      this.servers.set(server, known);
    }
    return known;
  }

  /** One page of a listing: its tools are known from now on. */
  addPage(server: string, schemas: ReadonlyMap<string, Schema>): void {
    const known = this.of(server);
    for (const [name, schema] of schemas) known.seen.set(name, schema);
  }

  /** A listing read to its last page: it is what the server offers. */
  completeListing(server: string, schemas: ReadonlyMap<string, Schema>): void {
    this.servers.set(server, { complete: new Map(schemas), seen: new Map(schemas) });
  }

  /** The server said its tools changed: what we knew may be stale. */
  forget(server: string): void {
    this.servers.delete(server);
  }

  schema(server: string, tool: string): Schema | undefined {
    const known = this.servers.get(server);
    return known?.complete?.get(tool) ?? known?.seen.get(tool);
  }

  /** True when only a fresh listing can tell whether (and with which schema) the server offers the tool. */
  mustFetch(server: string, tool: string): boolean {
    const known = this.servers.get(server);
    return !known?.complete && !known?.seen.has(tool);
  }
}
