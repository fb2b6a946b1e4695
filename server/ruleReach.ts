import { CompiledPolicy, type CatalogTool, type RiskSeverity } from '../core';
import type { AnalyzedPolicy } from './documents';

const SEVERITY_ORDER: readonly RiskSeverity[] = ['low', 'medium', 'high', 'critical'];

export interface RuleReach {
  tools: CatalogTool[];
  highest: RiskSeverity | undefined;
}

/**
 * Per rule (by JSON path), the catalog tools it decides: those it wins for and that no hide
 * entry removes. Works on the well-formed parts of a policy that still has errors.
 */
export function ruleReach(policy: AnalyzedPolicy): Map<string, RuleReach> {
  const reach = new Map<string, RuleReach>();
  const sanitized = policy.analysis.policy;
  if (!sanitized || policy.catalog.isEmpty) return reach;
  const compiled = policy.analysis.compiled ?? new CompiledPolicy(sanitized);
  const pairs: Array<{ server: string; tool: CatalogTool }> = [...policy.catalog.entries()];
  // A server the catalog does not know may serve any catalog tool.
  for (const server of compiled.serverNames) if (!policy.catalog.hasServer(server)) for (const tool of policy.catalog.toolsFor()) pairs.push({ server, tool });
  for (const { server, tool } of pairs) {
    if (compiled.isHidden(server, tool.name)) continue;
    const rule = compiled.findRule(server, tool.name);
    if (!rule) continue;
    let entry = reach.get(rule.pathText);
    if (!entry) {
      entry = { tools: [], highest: undefined };
      reach.set(rule.pathText, entry);
    }
    if (!entry.tools.includes(tool)) entry.tools.push(tool);
    if (!entry.highest || SEVERITY_ORDER.indexOf(tool.risk.severity) > SEVERITY_ORDER.indexOf(entry.highest)) entry.highest = tool.risk.severity;
  }
  return reach;
}
