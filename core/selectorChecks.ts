/** Diagnostics for risk-class selector keys: malformed ones, and ones no catalog tool falls under. */
import type { ToolCatalog, CatalogTool } from './catalog';
import { DiagnosticCode, type PolicyDiagnostic } from './diagnostic';
import type { JsonDocument } from './document';
import type { JsonPath } from './jsonPath';
import type { Policy } from './model';
import { describeSelector, isSelectorKey, parseSelector, selectorCovers } from './riskSelector';

function selectorSections(policy: Policy): Array<{ server: string | undefined; path: JsonPath; keys: string[] }> {
  const list = Object.entries(policy.servers ?? {}).map(([server, section]) => ({ server: server as string | undefined, path: ['servers', server, 'tools'] as JsonPath, keys: Object.keys(section.tools ?? {}) }));
  list.push({ server: undefined, path: ['tools'], keys: Object.keys(policy.tools ?? {}) });
  return list;
}

/** Selector keys remembered per catalog: keys being typed are remembered too, so they are bounded. */
const COVERED_MEMO_LIMIT = 1000;
/**
 * Per catalog (a catalog never changes; a reload makes a new one): what each selector covers in
 * each scope. Key completion offers every class with its count and list at each keystroke, and
 * a pass over 10,000 tools per class each time was most of a completion's own work.
 */
const coveredByCatalog = new WeakMap<ToolCatalog, Map<string, readonly CatalogTool[] | undefined>>();

/** The catalog tools a selector under `servers.S` (or at the top, S undefined) covers. */
export function toolsCoveredBySelector(key: string, catalog: ToolCatalog, server?: string): readonly CatalogTool[] | undefined {
  const scope = server !== undefined && catalog.hasServer(server) ? server : undefined;
  let known = coveredByCatalog.get(catalog);
  if (!known) coveredByCatalog.set(catalog, (known = new Map()));
  const memo = `${scope ?? ''}\u0000${key}`;
  if (known.has(memo)) return known.get(memo);
  if (known.size >= COVERED_MEMO_LIMIT) known.clear();
  const selector = parseSelector(key);
  const covered = 'error' in selector ? undefined : catalog.toolListFor(scope).filter((tool) => selectorCovers(selector, tool.risk));
  known.set(memo, covered);
  return covered;
}

export function checkSelectors(document: JsonDocument, policy: Policy, catalog: ToolCatalog | undefined, out: PolicyDiagnostic[]): void {
  for (const section of selectorSections(policy)) {
    for (const key of section.keys) {
      if (!isSelectorKey(key)) continue;
      const path = [...section.path, key];
      const selector = parseSelector(key);
      if ('error' in selector) {
        out.push({ code: DiagnosticCode.invalidSelector, severity: 'error', message: selector.error, range: document.rangeOf(path, 'key'), path });
        continue;
      }
      if (!catalog || catalog.isEmpty) continue;
      const covered = toolsCoveredBySelector(key, catalog, section.server) ?? [];
      if (covered.length === 0) {
        const where = section.server !== undefined && catalog.hasServer(section.server) ? `server "${section.server}"` : 'the tool catalog';
        out.push({
          code: DiagnosticCode.selectorMatchesNothing,
          severity: 'warning',
          message: `"${key}" (${describeSelector(selector)}) covers no tool in ${where}; tools the server adds later still fall under it`,
          range: document.rangeOf(path, 'key'),
          path,
        });
      }
    }
  }
}
