/**
 * How the current policy treats each catalog tool, computed with the engine's own rule lookup
 * (CompiledPolicy.plan) and no call made: the Tool Catalog view's icons and tooltips. No vscode
 * import, so it is tested without VS Code; loaded on first use (it pulls in ajv).
 */
import { analyzePolicy } from '../core/analyze';
import type { ToolCatalog } from '../core/catalog';
import { CompiledPolicy } from '../core/compile';
import { hasErrors } from '../core/diagnostic';
import { catalogRiskSource } from '../core/riskSelector';

export type EffectiveDecision = 'hidden' | 'denied' | 'approve' | 'limited' | 'allowed';

export interface ToolVerdict {
  effect: EffectiveDecision;
  /** JSON path of what decides: the rule, a `hide` entry, a `default`. */
  rule: string;
  reason: string;
  /** "10 per minute" for every limit that applies (the rule's, the server's, all tools'). */
  limits: string[];
}

export interface PolicyVerdicts {
  verdict(server: string, tool: string): ToolVerdict;
  /** Set when the policy has errors: the verdicts are those of its well-formed parts. */
  problem?: string;
  /** The JSON path of the pinning setting in force for the server, if pinning is on. */
  pinning(server: string): string | undefined;
}

export function policyVerdicts(policyText: string, catalog: ToolCatalog): PolicyVerdicts | undefined {
  // Without the catalog: its checks only warn (the language server shows them), and on every
  // keystroke they would resolve each catalog tool once more just to be thrown away here.
  const analysis = analyzePolicy(policyText);
  const policy = analysis.policy;
  if (!policy) return undefined;
  const compiled = new CompiledPolicy(policy, policyText);
  compiled.setToolRisk(catalogRiskSource(catalog));
  const errors = hasErrors(analysis.diagnostics) ? analysis.diagnostics.filter((d) => d.severity === 'error') : [];
  const policyCompiled = compiled;
  return {
    verdict: (server, tool) => verdictOf(policyCompiled, server, tool),
    pinning: (server) => policyCompiled.pinning(server),
    ...(errors.length > 0 ? { problem: `The policy has ${errors.length} error${errors.length === 1 ? '' : 's'} (${errors[0]!.message}); the local proxy keeps enforcing the last valid one.` } : {}),
  };
}

export function verdictOf(policy: CompiledPolicy, server: string, tool: string): ToolVerdict {
  const plan = policy.plan(server, tool);
  const limits = plan.limits.map((limit) => limit.describe);
  const ruleReason = plan.rule?.rule.reason;
  if (plan.hiddenBy) return { effect: 'hidden', rule: plan.hiddenBy.path, reason: `hidden by "${plan.hiddenBy.pattern}": left out of tools/list and denied when called`, limits: [] };
  if (plan.action === 'deny') {
    return { effect: 'denied', rule: plan.decidedBy, reason: ruleReason ?? (plan.rule ? `the rule "${plan.rule.key}" denies it` : 'no rule matches it and the default is deny'), limits: [] };
  }
  const by = plan.rule ? `the rule "${plan.rule.key}"` : `the default (${plan.action})`;
  if (plan.action === 'approve') return { effect: 'approve', rule: plan.decidedBy, reason: ruleReason ?? `${by} asks a person before each call`, limits };
  if (limits.length > 0) return { effect: 'limited', rule: plan.decidedBy, reason: ruleReason ?? `allowed by ${by}, at most ${limits.join(' and ')}`, limits };
  return { effect: 'allowed', rule: plan.decidedBy, reason: ruleReason ?? `allowed by ${by}`, limits };
}
