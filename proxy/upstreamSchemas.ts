/**
 * The tool definitions a server's own tools/list answers gave: input schemas for validate_input,
 * annotations and descriptions for risk-class selectors (when the catalog lacks the tool). Only answers
 * from the upstream to a tools/list the proxy relayed or sent itself come here, never anything
 * the client sent. A listing counts as complete once its last page arrived; until then what the
 * pages so far named is known and the rest is fetched before a validated call is decided.
 */
import { classifyTool, type Risk, type ToolAnnotations } from '../core';

type Schema = Record<string, unknown>;
/** A tool as the upstream listed it: a name and an object inputSchema at least. */
type Definition = Record<string, unknown>;

interface ServerSchemas {
  /** The last listing read to its end. */
  complete: Map<string, Definition> | undefined;
  /** Every tool any page named since the server last said its list changed. */
  seen: Map<string, Definition>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The well-formed tools of one page, by name, as they were listed. */
export function schemasOf(tools: readonly unknown[]): Map<string, Definition> {
  const definitions = new Map<string, Definition>();
  for (const tool of tools) {
    if (isObject(tool) && typeof tool.name === 'string' && isObject(tool.inputSchema)) definitions.set(tool.name, tool);
  }
  return definitions;
}

export class UpstreamSchemas {
  private readonly servers = new Map<string, ServerSchemas>();
  private readonly listeners: Array<(server: string) => void> = [];

  /** Called whenever what is known of a server's tools changes. */
  onChange(listener: (server: string) => void): void {
    this.listeners.push(listener);
  }

  private changed(server: string): void {
    for (const listener of this.listeners) listener(server);
  }

  private of(server: string): ServerSchemas {
    let known = this.servers.get(server);
    if (!known) {
      known = { complete: undefined, seen: new Map() };
      this.servers.set(server, known);
    }
    return known;
  }

  /** One page of a listing: its tools are known from now on. */
  addPage(server: string, definitions: ReadonlyMap<string, Definition>): void {
    const known = this.of(server);
    for (const [name, definition] of definitions) known.seen.set(name, definition);
    this.changed(server);
  }

  /** A listing read to its last page: it is what the server offers. */
  completeListing(server: string, definitions: ReadonlyMap<string, Definition>): void {
    this.servers.set(server, { complete: new Map(definitions), seen: new Map(definitions) });
    this.changed(server);
  }

  /** The server said its tools changed: what we knew may be stale. */
  forget(server: string): void {
    this.servers.delete(server);
    this.changed(server);
  }

  /** Every tool known of the server: the complete listing, or the pages seen so far. */
  definitions(server: string): Iterable<Definition> {
    const known = this.servers.get(server);
    return (known?.complete ?? known?.seen ?? new Map<string, Definition>()).values();
  }

  definition(server: string, tool: string): Definition | undefined {
    const known = this.servers.get(server);
    return known?.complete?.get(tool) ?? known?.seen.get(tool);
  }

  schema(server: string, tool: string): Schema | undefined {
    const inputSchema = this.definition(server, tool)?.inputSchema;
    return isObject(inputSchema) ? inputSchema : undefined;
  }

  /** The class of a listed tool from its own definition: annotations first, then its name. */
  risk(server: string, tool: string): Risk | undefined {
    const definition = this.definition(server, tool);
    if (!definition) return undefined;
    const annotations = isObject(definition.annotations) ? (definition.annotations as ToolAnnotations) : undefined;
    const description = typeof definition.description === 'string' ? definition.description : undefined;
    return classifyTool({ name: tool, ...(description !== undefined ? { description } : {}), ...(annotations ? { annotations } : {}) });
  }

  /** True when only a fresh listing can tell whether (and with which schema) the server offers the tool. */
  mustFetch(server: string, tool: string): boolean {
    const known = this.servers.get(server);
    return !known?.complete && !known?.seen.has(tool);
  }
}
