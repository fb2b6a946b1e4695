import { isAscii } from 'node:buffer';
import { readFileSync } from 'node:fs';
import type { CatalogDigests, KeptTool } from './catalogDigests';
import { dirname, resolve } from 'node:path';
import { sealHolds } from './catalogSeal';
import { definitionDigest, recordDigest } from './pinning';
import { classifyTool, type Risk, type RiskClass, type RiskSeverity, type ToolAnnotations } from './risk';
import { setOwn } from './ownRecord';

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
  private readonly namesByScope = new Map<string | undefined, readonly string[]>();
  private readonly toolsByScope = new Map<string | undefined, readonly CatalogTool[]>();

  static empty(): ToolCatalog {
    return new ToolCatalog([]);
  }

  /**
   * `adopt`: the files' tools are already checked (readCatalogFileChecked made them) and no one
   * else holds them, so they are indexed as they are instead of being copied once more.
   */
  constructor(files: readonly CatalogFile[], adopt = false) {
    for (const file of files) {
      for (const [serverName, server] of Object.entries(isRecord(file.servers) ? file.servers : {})) {
        if (!isRecord(server) || !Array.isArray(server.tools)) continue;
        const tools = this.byServer.get(serverName) ?? new Map<string, CatalogTool>();
        this.byServer.set(serverName, tools);
        for (let index = 0; index < server.tools.length; index++) {
          const raw = server.tools[index]!;
          if (!isRecord(raw) || typeof raw.name !== 'string') continue;
          // Adopted tools were made by readCatalogText: their schema and risk are checked already.
          const tool: CatalogTool =
            adopt ? raw : { ...raw, inputSchema: isRecord(raw.inputSchema) ? raw.inputSchema : { type: 'object' }, risk: isRisk(raw.risk) ? raw.risk : classifyTool(raw) };
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

  /**
   * The tools toolsFor gives, as a list made once (the catalog does not change): the checks walk
   * it by index, since a Map iterator, still unoptimized on a cold open, allocates a result object
   * for each of 10,000 tools on every pass.
   */
  toolListFor(server?: string): readonly CatalogTool[] {
    const scope = this.scopeOf(server);
    let tools = this.toolsByScope.get(scope);
    if (!tools) {
      tools = [...(scope !== undefined ? this.byServer.get(scope)! : this.byName).values()];
      this.toolsByScope.set(scope, tools);
    }
    return tools;
  }

  /** The names of toolListFor's tools, made once too: did-you-mean and the glob checks walk them. */
  toolNamesFor(server?: string): readonly string[] {
    const scope = this.scopeOf(server);
    let names = this.namesByScope.get(scope);
    if (!names) {
      names = this.toolListFor(scope).map((tool) => tool.name);
      this.namesByScope.set(scope, names);
    }
    return names;
  }

  /** A server the catalog has, else undefined: every tool. */
  private scopeOf(server: string | undefined): string | undefined {
    return server !== undefined && this.byServer.has(server) ? server : undefined;
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
  const { file, problems } = readCatalogFileChecked(path);
  if (problems.length > 0 && Object.keys(file.servers).length === 0) throw new Error(problems.join('; '));
  return file;
}

const RISK_CLASSES: readonly RiskClass[] = ['read', 'write', 'destructive', 'execute'];
const RISK_SEVERITIES: readonly RiskSeverity[] = ['low', 'medium', 'high', 'critical'];
/** How many shape problems a catalog's one diagnostic lists before "and N more". */
const PROBLEMS_LISTED = 3;

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isRisk(value: unknown): value is Risk {
  return isRecord(value) && RISK_CLASSES.includes(value.class as RiskClass) && RISK_SEVERITIES.includes(value.severity as RiskSeverity);
}

/**
 * A catalog file, with every part of the wrong shape left out and named in `problems`, so
 * that one bad server or tool neither hides the rest nor reaches the checks as `undefined`.
 * Throws only when the file cannot be read or is not JSON.
 */
export function readCatalogFileChecked(path: string, digests?: CatalogDigests): { file: CatalogFile; problems: string[] } {
  const bytes = readFileSync(path);
  // An ASCII file (JSON.stringify's output for most catalogs) reads the same as latin1, which is a
  // copy; decoding 8 MB as UTF-8 took ~6 ms of a cold open.
  return readCatalogText(bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8'), digests, sealHolds(bytes));
}

/** readCatalogFileChecked on a catalog's text. */
export function readCatalogText(text: string, digests?: CatalogDigests, sealed = sealHolds(text)): { file: CatalogFile; problems: string[] } {
  // A sealed file is as written, when every entry matched its pin (catalogSeal.ts): its pins are
  // its entries' digests. Otherwise the digests are made on a worker meanwhile (catalogDigests.ts).
  const attach = sealed ? undefined : digests?.start(text);
  const kept: KeptTool[] | undefined = attach ? [] : undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`not valid JSON: ${(error as Error).message}`);
  }
  const problems: string[] = [];
  const servers: Record<string, CatalogServer> = {};
  if (!isRecord(parsed) || !isRecord(parsed.servers)) {
    problems.push(`not a tool catalog: expected {"version": "1", "servers": {...}}, found ${isRecord(parsed) ? `"servers": ${shapeOf(parsed.servers)}` : shapeOf(parsed)}`);
    return { file: { version: '1', servers }, problems };
  }
  for (const [name, server] of Object.entries(parsed.servers)) {
    if (!isRecord(server) || !Array.isArray(server.tools)) {
      problems.push(`servers.${name}.tools must be an array of tools, found ${isRecord(server) ? shapeOf(server.tools) : shapeOf(server)}`);
      continue;
    }
    const tools: CatalogTool[] = [];
    server.tools.forEach((raw: unknown, index) => {
      if (!isRecord(raw) || typeof raw.name !== 'string' || raw.name.length === 0) {
        problems.push(`servers.${name}.tools[${index}] has no "name"`);
        return;
      }
      // The parse is this function's own: a well-shaped tool is kept as parsed, not copied.
      const tool = (isRecord(raw.inputSchema) ? raw : { ...raw, name: raw.name, inputSchema: { type: 'object' } }) as unknown as CatalogTool;
      const riskWritten = isRisk(raw.risk);
      if (raw.risk !== undefined && !riskWritten) {
        problems.push(`servers.${name}.tools[${index}] (${raw.name}): "risk" must be {"class": ${RISK_CLASSES.map((c) => `"${c}"`).join('|')}, "severity": ${RISK_SEVERITIES.map((c) => `"${c}"`).join('|')}}; classified from its name instead`);
      }
      if (!riskWritten) tool.risk = classifyTool(tool);
      if (sealed && typeof tool.digest === 'string') recordDigest(tool, tool.digest);
      tools.push(tool);
      kept?.push({ server: name, index, tool });
    });
    setOwn(servers, name, { ...(isRecord(server.serverInfo) ? { serverInfo: server.serverInfo as CatalogServer['serverInfo'] } : {}), tools });
  }
  if (attach && kept) attach(kept);
  return { file: { ...(parsed as object), version: '1', servers } as CatalogFile, problems };
}

function shapeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value === 'undefined' ? 'nothing' : `a ${typeof value}`;
}

function summarize(problems: readonly string[]): string {
  const listed = problems.slice(0, PROBLEMS_LISTED).join('; ');
  return problems.length > PROBLEMS_LISTED ? `${listed}; and ${problems.length - PROBLEMS_LISTED} more` : listed;
}

/**
 * Reads the catalogs; a missing default catalog is normal, a missing named one is a problem.
 */
export function loadCatalog(
  policyPath: string,
  named: readonly string[] | undefined,
  extraFiles: readonly string[] = [],
  digests?: CatalogDigests,
): { catalog: ToolCatalog; problems: CatalogLoadProblem[]; files: string[] } {
  const files: CatalogFile[] = [];
  const problems: CatalogLoadProblem[] = [];
  const read: string[] = [];
  const defaultPath = resolve(dirname(resolve(policyPath)), CATALOG_FILE_NAME);
  for (const path of [...catalogPathsFor(policyPath, named), ...extraFiles.map((file) => resolve(file))]) {
    try {
      const checked = readCatalogFileChecked(path, digests);
      files.push(checked.file);
      read.push(path);
      if (checked.problems.length > 0) problems.push({ file: path, message: summarize(checked.problems) });
    } catch (error) {
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      if (missing && path === defaultPath && !(named ?? []).some((entry) => resolve(dirname(resolve(policyPath)), entry) === path)) continue;
      problems.push({ file: path, message: missing ? 'catalog file not found' : (error as Error).message });
    }
  }
  return { catalog: new ToolCatalog(files, true), problems, files: read };
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
