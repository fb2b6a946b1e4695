import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { definitionDigest } from './pinning';
import { classifyTool, type Risk, type ToolAnnotations } from './risk';

export interface CatalogTool {
  name: string;
  title?: string;
  description?: string;
  inputSchema: Record<string, unknown>;
  outputSchema?: Record<string, unknown>;
  annotations?: ToolAnnotations;
  risk: Risk;
  /** The pin: digest of name, description, inputSchema and annotations as captured (see pinning.ts). */
  digest?: string;
}

export interface CatalogServer {
  serverInfo?: { name?: string; version?: string };
  tools: CatalogTool[];
}

export interface CatalogFile {
  version: '1';
  generated?: string;
  servers: Record<string, CatalogServer>;
}

export const CATALOG_FILE_NAME = 'mcp-policy.catalog.json';

/** All catalog tools by server and by name, for lookups on every keystroke and call. */
export class ToolCatalog {
  private readonly byServer = new Map<string, Map<string, CatalogTool>>();
  private readonly byName = new Map<string, CatalogTool>();

  static empty(): ToolCatalog {
    return new ToolCatalog([]);
  }

  constructor(files: readonly CatalogFile[]) {
    for (const file of files) {
      for (const [serverName, server] of Object.entries(file.servers ?? {})) {
        const tools = this.byServer.get(serverName) ?? new Map<string, CatalogTool>();
        this.byServer.set(serverName, tools);
        for (const raw of server.tools ?? []) {
          if (!raw || typeof raw.name !== 'string') continue;
          const tool: CatalogTool = { ...raw, inputSchema: raw.inputSchema ?? { type: 'object' }, risk: raw.risk ?? classifyTool(raw) };
          tools.set(tool.name, tool);
          if (!this.byName.has(tool.name)) this.byName.set(tool.name, tool);
        }
      }
    }
  }

  get isEmpty(): boolean {
    return this.byName.size === 0;
  }

  serverNames(): string[] {
    return [...this.byServer.keys()];
  }

  hasServer(server: string): boolean {
    return this.byServer.has(server);
  }

  /** The tools a rule under `servers.S` can mean: that server's, or every tool when the catalog does not know S. */
  toolsFor(server?: string): Iterable<CatalogTool> {
    if (server !== undefined) {
      const tools = this.byServer.get(server);
      if (tools) return tools.values();
    }
    return this.byName.values();
  }

  toolNamesFor(server?: string): Iterable<string> {
    if (server !== undefined) {
      const tools = this.byServer.get(server);
      if (tools) return tools.keys();
    }
    return this.byName.keys();
  }

  /** The tool as pinned for exactly this server; no fallback to another server's tool of that name. */
  pinned(server: string, name: string): CatalogTool | undefined {
    return this.byServer.get(server)?.get(name);
  }

  find(name: string, server?: string): CatalogTool | undefined {
    if (server !== undefined) {
      const tool = this.byServer.get(server)?.get(name);
      if (tool || this.byServer.has(server)) return tool;
    }
    return this.byName.get(name);
  }

  /** Every (server, tool) pair, for checks that must resolve rules per server. */
  *entries(): Iterable<{ server: string; tool: CatalogTool }> {
    for (const [server, tools] of this.byServer) for (const tool of tools.values()) yield { server, tool };
  }
}

export interface CatalogLoadProblem {
  file: string;
  message: string;
}

/** The catalog files a policy names, plus mcp-policy.catalog.json beside it, that exist. */
export function catalogPathsFor(policyPath: string, named: readonly string[] | undefined): string[] {
  const folder = dirname(resolve(policyPath));
  const paths = new Set<string>();
  for (const entry of named ?? []) if (typeof entry === 'string') paths.add(resolve(folder, entry));
  paths.add(resolve(folder, CATALOG_FILE_NAME));
  return [...paths];
}

export function readCatalogFile(path: string): CatalogFile {
  const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (!parsed || typeof parsed !== 'object' || typeof (parsed as CatalogFile).servers !== 'object') {
    throw new Error('not a tool catalog: expected {"version": "1", "servers": {...}}');
  }
  return parsed as CatalogFile;
}

/**
 * Reads the catalogs; a missing default catalog is normal, a missing named one is a problem.
 */
export function loadCatalog(
  policyPath: string,
  named: readonly string[] | undefined,
  extraFiles: readonly string[] = [],
): { catalog: ToolCatalog; problems: CatalogLoadProblem[]; files: string[] } {
  const files: CatalogFile[] = [];
  const problems: CatalogLoadProblem[] = [];
  const read: string[] = [];
  const defaultPath = resolve(dirname(resolve(policyPath)), CATALOG_FILE_NAME);
  for (const path of [...catalogPathsFor(policyPath, named), ...extraFiles.map((file) => resolve(file))]) {
    try {
      files.push(readCatalogFile(path));
      read.push(path);
    } catch (error) {
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      if (missing && path === defaultPath && !(named ?? []).some((entry) => resolve(dirname(resolve(policyPath)), entry) === path)) continue;
      problems.push({ file: path, message: missing ? 'catalog file not found' : (error as Error).message });
    }
  }
  return { catalog: new ToolCatalog(files), problems, files: read };
}

/** A catalog from a recorded `tools/list` result, for one server. */
export function catalogFromToolsList(
  server: string,
  tools: ReadonlyArray<Omit<CatalogTool, 'risk'> & { risk?: Risk }>,
  serverInfo?: { name?: string; version?: string },
): CatalogFile {
  return {
    version: '1',
    generated: new Date().toISOString(),
    servers: {
      [server]: {
        ...(serverInfo ? { serverInfo } : {}),
        tools: tools.map((tool) => ({ ...tool, risk: tool.risk ?? classifyTool(tool), digest: definitionDigest(tool) })),
      },
    },
  };
}
