/**
 * Risk-class selectors: rule keys such as `@destructive` or `@execute:high` (at least high) that
 * cover every tool of a class, whatever its name, including tools a server adds later.
 */
import type { ToolCatalog } from './catalog';
import type { Risk, RiskClass, RiskSeverity } from './risk';

export const RISK_CLASSES: readonly RiskClass[] = ['read', 'write', 'destructive', 'execute'];
export const RISK_SEVERITIES: readonly RiskSeverity[] = ['low', 'medium', 'high', 'critical'];

export interface RiskSelector {
  class: RiskClass;
  /** The lowest severity covered; `low` when the key names none. */
  minSeverity: RiskSeverity;
}

const SELECTOR = /^@([a-z]+)(?::([a-z]+))?$/;

/** True for every key written as a selector, well-formed or not: such a key never names a tool. */
export function isSelectorKey(key: string): boolean {
  return key.startsWith('@');
}

export function parseSelector(key: string): RiskSelector | { error: string } {
  const match = SELECTOR.exec(key);
  const riskClass = match?.[1] as RiskClass | undefined;
  const severity = (match?.[2] ?? 'low') as RiskSeverity;
  if (!match || !riskClass || !RISK_CLASSES.includes(riskClass)) {
    return { error: `"${key}" is not a risk-class selector: write ${RISK_CLASSES.map((name) => `@${name}`).join(', ')}, optionally with a minimum severity such as @execute:high` };
  }
  if (!RISK_SEVERITIES.includes(severity)) {
    return { error: `"${key}": the minimum severity must be one of ${RISK_SEVERITIES.join(', ')}` };
  }
  return { class: riskClass, minSeverity: severity };
}

export function severityRank(severity: RiskSeverity): number {
  return RISK_SEVERITIES.indexOf(severity);
}

export function selectorCovers(selector: RiskSelector, risk: Risk): boolean {
  return risk.class === selector.class && severityRank(risk.severity) >= severityRank(selector.minSeverity);
}

export function describeSelector(selector: RiskSelector): string {
  return selector.minSeverity === 'low' ? `every ${selector.class} tool` : `every ${selector.class} tool of severity ${selector.minSeverity} or above`;
}

/** The risk of a (server, tool): from the catalog, else from the live tool's definition. */
export type ToolRiskSource = (server: string, tool: string) => Risk | undefined;

export function catalogRiskSource(catalog: ToolCatalog | undefined): ToolRiskSource {
  return (server, tool) => catalog?.find(tool, server)?.risk;
}
