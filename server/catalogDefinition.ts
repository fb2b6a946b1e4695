import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Location } from 'vscode-languageserver/node';
import { catalogPathsFor, compileGlob, isObject, JsonDocument } from '../core';
import type { PolicyContext } from './documents';
import { hideSection, rulePath } from './policyPaths';
import { pathAt } from './policyLocations';

const MAX_LOCATIONS = 100;

/** From a rule's key (or a hide entry) to the catalog entries of the tools it names. */
export function catalogDefinition(context: PolicyContext, offset: number): Location[] {
  if (!context.path) return [];
  const at = pathAt(context.json, offset);
  if (!at) return [];
  let pattern: string | undefined;
  let server: string | undefined;
  const rule = at.onKey ? rulePath(at.path) : undefined;
  if (rule) {
    pattern = rule.key;
    server = rule.server;
  }
  const hide = !at.onKey ? hideSection(at.path.slice(0, -1)) : undefined;
  if (hide && typeof at.node.value === 'string') {
    pattern = at.node.value;
    server = hide.server;
  }
  if (pattern === undefined) return [];
  const glob = compileGlob(pattern);
  const value = context.json.value;
  const named = isObject(value) && Array.isArray(value.catalog) ? value.catalog.filter((entry): entry is string => typeof entry === 'string') : [];
  const locations: Location[] = [];
  for (const file of catalogPathsFor(context.path, named)) {
    if (!existsSync(file)) continue;
    let catalog: JsonDocument;
    try {
      catalog = new JsonDocument(readFileSync(file, 'utf8'));
    } catch {
      continue;
    }
    const servers = isObject(catalog.value) && isObject(catalog.value.servers) ? catalog.value.servers : {};
    const known = server !== undefined && server in servers;
    for (const [name, section] of Object.entries(servers)) {
      if (known && name !== server) continue;
      const tools = isObject(section) && Array.isArray(section.tools) ? section.tools : [];
      tools.forEach((tool: unknown, index: number) => {
        if (locations.length >= MAX_LOCATIONS || !isObject(tool) || typeof tool.name !== 'string' || !glob.matches(tool.name)) return;
        const range = catalog.rangeOf(['servers', name, 'tools', index, 'name']);
        const lines = catalog.lines;
        locations.push({ uri: pathToFileURL(file).href, range: { start: lines.positionAt(range.offset), end: lines.positionAt(range.offset + range.length) } });
      });
    }
  }
  return locations;
}
