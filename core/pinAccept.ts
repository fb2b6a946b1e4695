/**
 * Accepting a tool's drift: the catalog entry takes the definition the server lists now, with a
 * fresh risk class and pin, so the tool matches its pin again. Shared by the extension's Accept
 * Change and the CLI; everything else in the file (other tools, other servers, `$schema`) stays.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { CatalogServer, CatalogTool } from './catalog';
import { catalogFileText } from './catalogText';
import { definitionDigest, type PinnedDefinition } from './pinning';
import { classifyTool, type ToolAnnotations } from './risk';
import { setOwn } from './ownRecord';

/** A catalog file as JSON: only `servers.S.tools` is looked at, the rest is written back as it was. */
type CatalogJson = Record<string, unknown> & { servers?: Record<string, Partial<CatalogServer> & Record<string, unknown>> };

/** The catalog entry for a live definition: what `mcp-policy catalog` would have written for it. */
export function pinnedEntry(live: PinnedDefinition & Record<string, unknown>): CatalogTool {
  const inputSchema = live.inputSchema !== null && typeof live.inputSchema === 'object' && !Array.isArray(live.inputSchema) ? (live.inputSchema as Record<string, unknown>) : { type: 'object' };
  const tool: CatalogTool = { ...live, name: live.name, inputSchema, risk: { class: 'read', severity: 'low', why: '' } } as CatalogTool;
  if (typeof live.description !== 'string') delete tool.description;
  if (live.annotations !== undefined) tool.annotations = live.annotations as ToolAnnotations;
  delete (tool as { digest?: string }).digest;
  tool.risk = classifyTool(tool);
  tool.digest = definitionDigest(live);
  return tool;
}

/**
 * The catalog with `tool` of `server` pinned to `live`: replaced in place, added at the end when
 * new, removed when `live` is undefined (the server no longer lists it).
 */
export function acceptDefinition(catalog: CatalogJson, server: string, tool: string, live: (PinnedDefinition & Record<string, unknown>) | undefined): CatalogJson {
  const servers = { ...(catalog.servers ?? {}) };
  const section = servers[server] ?? { tools: [] };
  const tools = Array.isArray(section.tools) ? [...section.tools] : [];
  const at = tools.findIndex((entry) => (entry as { name?: unknown } | null)?.name === tool);
  if (live === undefined) {
    if (at >= 0) tools.splice(at, 1);
  } else {
    if (live.name !== tool) throw new Error(`the definition is of ${String(live.name)}, not ${tool}`);
    const entry = pinnedEntry(live);
    if (at >= 0) tools[at] = entry;
    else tools.push(entry);
  }
  setOwn(servers, server, { ...section, tools });
  return { ...catalog, servers };
}

/** acceptDefinition on a catalog file, written atomically (the proxy and the language server watch it). */
export function acceptDefinitionInFile(path: string, server: string, tool: string, live: (PinnedDefinition & Record<string, unknown>) | undefined): void {
  let catalog: CatalogJson = { version: '1', servers: {} };
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a tool catalog (expected a JSON object)');
    catalog = parsed as CatalogJson;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${path}: ${(error as Error).message}`);
  }
  const updated = acceptDefinition(catalog, server, tool, live);
  const temporary = join(dirname(resolve(path)), `.${basename(path)}.${process.pid}.accept.tmp`);
  writeFileSync(temporary, catalogFileText(updated));
  renameSync(temporary, path);
}
