import type { Policy, Rule } from './model';
import { setOwn } from './ownRecord';

/**
 * What a rule means for the checks: the rule as JSON without its `reason`, which decides
 * nothing. Made once per rule object: the semantic cache's key and the plan checks' sections
 * both need it for every rule of the same analysis. (Rules are not changed once sanitized.)
 */
const meanings = new WeakMap<Rule, string>();

export function ruleMeaning(rule: Rule): string {
  let known = meanings.get(rule);
  if (known === undefined) {
    const { reason: _reason, ...rest } = rule;
    known = JSON.stringify(rest);
    meanings.set(rule, known);
  }
  return known;
}

/**
 * The policy's meaning as one string: equal exactly when everything but the rules' reasons is.
 * The policy without its rules, then each section's rules as JSON key and meaning; JSON never
 * holds a raw control character, so the separators cannot occur inside a part.
 */
export function policyMeaning(policy: Policy): string {
  const { tools, servers, ...rest } = policy;
  const sections: Record<string, unknown> = {};
  const parts: string[] = [];
  const addRules = (rules: Record<string, Rule> | undefined): void => {
    parts.push(rules ? '\u0001' : '\u0002');
    if (rules) for (const key of Object.keys(rules)) parts.push(JSON.stringify(key), ruleMeaning(rules[key]!));
  };
  addRules(tools);
  for (const name of Object.keys(servers ?? {})) {
    const { tools: serverTools, ...section } = servers![name]!;
    setOwn(sections, name, section);
    parts.push('\u0000', JSON.stringify(name));
    addRules(serverTools);
  }
  return `${JSON.stringify({ ...rest, servers: servers ? sections : undefined })}${parts.join('\u0003')}`;
}
