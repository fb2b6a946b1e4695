/**
 * Drift the editor can see: a catalog entry whose definition no longer matches the pin it
 * stores. `mcp-policy catalog` writes both together, so they differ only when the file was
 * changed afterwards (a hand edit, a merged change to the catalog): the description and schema
 * that hover, completion and the argument checks show are then not the ones that were reviewed,
 * and the proxy compares the live tool with the old pin.
 */
import type { CatalogTool, ToolCatalog } from './catalog';
import { DiagnosticCode, type PolicyDiagnostic } from './diagnostic';
import type { JsonDocument } from './document';
import type { JsonPath } from './jsonPath';
import type { Policy } from './model';
import { definitionDigest } from './pinning';
import { isGlobPattern } from './glob';
import { isSelectorKey } from './riskSelector';

export interface DriftedEntry {
  server: string;
  tool: CatalogTool;
}

/** True when the entry stores a pin and its definition is not the pinned one. */
export function entryDrifted(tool: CatalogTool): boolean {
  return typeof tool.digest === 'string' && tool.digest !== definitionDigest(tool);
}

function pinningOn(policy: Policy, server: string): boolean {
  return policy.servers?.[server]?.pinning ?? policy.pinning ?? false;
}

function describe(policy: Policy, entries: readonly DriftedEntry[]): string {
  const named = entries.map((entry) => `${entry.tool.name} (server "${entry.server}")`).join(', ');
  const enforced = entries.some((entry) => pinningOn(policy, entry.server));
  const one = entries.length === 1;
  return (
    `the catalog's definition of ${named} ${one ? 'does' : 'do'} not match ${one ? 'its pin' : 'their pins'}: the catalog file was changed after \`mcp-policy catalog\` pinned ${one ? 'it' : 'them'}, ` +
    `so the description and input schema shown here are not the ones reviewed` +
    (enforced ? '; pinning is on, so the proxy admits the tool only while the server lists the pinned definition' : '; the proxy reports drift when the server lists anything but the pinned definition') +
    `. Review the change and run \`mcp-policy catalog\` to pin what the server lists now`
  );
}

/**
 * The catalog's drifted entries, found once per catalog (a catalog does not change; a reload
 * makes a new one): the checks run again after each edit to a rule, and a sealed catalog of
 * 10,000 tools has none to find.
 */
const driftedByCatalog = new WeakMap<ToolCatalog, readonly DriftedEntry[]>();

function driftedEntries(catalog: ToolCatalog): readonly DriftedEntry[] {
  let drifted = driftedByCatalog.get(catalog);
  if (!drifted) {
    const found: DriftedEntry[] = [];
    for (const server of catalog.serverNames()) {
      const tools = catalog.toolListFor(server);
      for (let index = 0; index < tools.length; index++) if (entryDrifted(tools[index]!)) found.push({ server, tool: tools[index]! });
    }
    drifted = found;
    driftedByCatalog.set(catalog, drifted);
  }
  return drifted;
}

/** Drifted entries a rule names exactly; pure in the rule's place and the catalog. */
function driftedEntriesForRule(key: string, server: string | undefined, catalog: ToolCatalog, drifted: readonly DriftedEntry[]): DriftedEntry[] {
  if (isGlobPattern(key) || isSelectorKey(key)) return [];
  if (server !== undefined && catalog.hasServer(server)) {
    const tool = catalog.pinned(server, key);
    return tool && entryDrifted(tool) ? [{ server, tool }] : [];
  }
  return drifted.filter((entry) => entry.tool.name === key);
}

export function checkPinDrift(document: JsonDocument, policy: Policy, catalog: ToolCatalog | undefined, out: PolicyDiagnostic[]): void {
  if (!catalog || catalog.isEmpty) return;
  const drifted = driftedEntries(catalog);
  if (drifted.length === 0) return;
  const reported = new Set<CatalogTool>();
  const sections: Array<{ server: string | undefined; path: JsonPath; keys: string[] }> = Object.entries(policy.servers ?? {}).map(([server, section]) => ({ server, path: ['servers', server, 'tools'], keys: Object.keys(section.tools ?? {}) }));
  sections.push({ server: undefined, path: ['tools'], keys: Object.keys(policy.tools ?? {}) });
  for (const section of sections) {
    for (const key of section.keys) {
      const entries = driftedEntriesForRule(key, section.server, catalog, drifted);
      if (entries.length === 0) continue;
      for (const entry of entries) reported.add(entry.tool);
      const path = [...section.path, key];
      out.push({ code: DiagnosticCode.pinDrift, severity: 'warning', message: describe(policy, entries), range: document.rangeOf(path, 'key'), path, data: { tools: entries.map((entry) => ({ server: entry.server, tool: entry.tool.name })) } });
    }
  }
  // Drift in tools no rule names goes where the policy names its catalogs, else on `version`
  // (every policy has it; a key path, so that cached diagnostics find their range again).
  const rest = drifted.filter((entry) => !reported.has(entry.tool));
  if (rest.length === 0) return;
  const path: JsonPath = document.nodeAt(['catalog']) !== undefined ? ['catalog'] : document.nodeAt(['version']) !== undefined ? ['version'] : [];
  const range = path.length > 0 ? document.rangeOf(path, 'key') : { offset: document.root?.offset ?? 0, length: document.root ? 1 : 0 };
  out.push({ code: DiagnosticCode.pinDrift, severity: 'warning', message: describe(policy, rest), range, path, data: { tools: rest.map((entry) => ({ server: entry.server, tool: entry.tool.name })) } });
}
