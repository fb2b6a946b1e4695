/** Which rules, hide entries and limits of a policy its tests exercised. */
import { formatJsonPath, type JsonPath } from './jsonPath';
import type { Limit, Policy, Rule } from './model';
import { limitKey, type PolicyTestResult } from './policyTests';

export interface CoverageItem {
  kind: 'rule' | 'hide' | 'limit';
  /** What a person reads: `tools.fluentcrm_get_*`, `hide[0] "*_delete_*"`, `limit campaign_sends of tools.x`. */
  label: string;
  /** Where it is written. */
  path: JsonPath;
  /** What the test runner records when a call meets it. */
  key: string;
}

export function coverageItems(policy: Policy): CoverageItem[] {
  const items: CoverageItem[] = [];
  const section = (base: JsonPath, hide: string[] | undefined, limits: Limit[] | undefined, tools: Record<string, Rule> | undefined): void => {
    (hide ?? []).forEach((pattern, index) => {
      const path = [...base, 'hide', index];
      items.push({ kind: 'hide', label: `${formatJsonPath(path)} "${pattern}"`, path, key: formatJsonPath(path) });
    });
    addLimits(items, limits, [...base, 'all_tools', 'limits'], undefined);
    for (const [key, rule] of Object.entries(tools ?? {})) {
      const path = [...base, 'tools', key];
      const text = formatJsonPath(path);
      items.push({ kind: 'rule', label: text, path, key: text });
      addLimits(items, rule.limits, [...path, 'limits'], text);
    }
  };
  section([], policy.hide, policy.all_tools?.limits, policy.tools);
  for (const [name, server] of Object.entries(policy.servers ?? {})) section(['servers', name], server.hide, server.all_tools?.limits, server.tools);
  return items;
}

/** Mirrors compile.ts's resolveLimits: a rate_limited event names the owner rule (or the limit) and the counter. */
function addLimits(items: CoverageItem[], limits: Limit[] | undefined, base: JsonPath, owner: string | undefined): void {
  (limits ?? []).forEach((limit, index) => {
    const path = [...base, index];
    const own = formatJsonPath(path);
    const counter = limit.counter ?? own;
    items.push({ kind: 'limit', label: `${own}${limit.counter ? ` (counter ${limit.counter})` : ''}`, path, key: limitKey(owner ?? own, counter) });
  });
}

/** The items no test's call met. */
export function unexercised(policy: Policy, results: readonly PolicyTestResult[]): CoverageItem[] {
  const met = new Set<string>();
  for (const result of results) for (const key of result.exercised) met.add(key);
  return coverageItems(policy).filter((item) => !met.has(item.key));
}
