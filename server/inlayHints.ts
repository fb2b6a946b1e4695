import { InlayHintKind, type InlayHint, type Range } from 'vscode-languageserver/node';
import { compileGlob, formatJsonPath } from '../core';
import type { AnalyzedPolicy } from './documents';
import { ruleEntries } from './policyLocations';
import { ruleReach } from './ruleReach';

/** After each rule's key: how many catalog tools a glob decides, and the highest risk among what the rule decides. */
export function inlayHints(policy: AnalyzedPolicy, range: Range): InlayHint[] {
  const reach = ruleReach(policy);
  if (policy.catalog.isEmpty) return [];
  const document = policy.textDocument;
  const first = document.offsetAt(range.start);
  const last = document.offsetAt(range.end);
  const hints: InlayHint[] = [];
  for (const entry of ruleEntries(policy.json.value)) {
    const key = policy.json.rangeOf(entry.path, 'key');
    const end = key.offset + key.length;
    if (end < first || key.offset > last) continue;
    const decided = reach.get(formatJsonPath(entry.path));
    const count = decided?.tools.length ?? 0;
    const parts: string[] = [];
    if (compileGlob(entry.key).isGlob) parts.push(`${count} tool${count === 1 ? '' : 's'}`);
    if (decided?.highest) parts.push(`${decided.highest} risk`);
    if (parts.length === 0) continue;
    hints.push({
      position: document.positionAt(end),
      label: parts.join(' · '),
      kind: InlayHintKind.Type,
      paddingLeft: true,
      tooltip: decided && decided.tools.length > 0 ? `Decides ${decided.tools.map((tool) => `${tool.name} (${tool.risk.severity})`).join(', ')}` : 'No catalog tool is decided by this rule',
    });
  }
  return hints;
}
