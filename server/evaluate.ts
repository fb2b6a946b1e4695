import type { CodeLens } from 'vscode-languageserver/node';
import { compileGlob, defaultServerOf, formatJsonPath, isObject, readPolicyTests, runPolicyTest, scriptedApprover, testEngine, type DecisionEvent, type JsonPath, type ToolCall } from '../core';
import type { AnalyzedPolicy } from './documents';
import { ruleEntries } from './policyLocations';

/** Runs in the server: (policy uri, JSON path of a rule or test) → what that call is decided. */
export const EVALUATE_COMMAND = 'mcpPolicy.evaluate';

export type EvaluateResult =
  | { kind: 'rule'; rule: string; call: ToolCall; event: DecisionEvent; note?: string }
  | { kind: 'test'; name: string; passed: boolean; failures: Array<{ message: string; line: number }>; events: DecisionEvent[] }
  | { kind: 'error'; message: string };

/** An Evaluate lens on every rule key and every test. */
export function codeLenses(policy: AnalyzedPolicy): CodeLens[] {
  if (!policy.analysis.compiled) return [];
  const document = policy.textDocument;
  const lens = (path: JsonPath, part: 'key' | 'value', title: string): CodeLens => {
    const range = policy.json.rangeOf(path, part);
    const start = document.positionAt(range.offset);
    return { range: { start, end: start }, command: { title, command: EVALUATE_COMMAND, arguments: [policy.uri, path] } };
  };
  const lenses = ruleEntries(policy.json.value).map((entry) => lens(entry.path, 'key', 'Evaluate'));
  const value = policy.json.value;
  if (isObject(value) && Array.isArray(value.tests)) value.tests.forEach((_test: unknown, index: number) => lenses.push(lens(['tests', index], 'value', 'Evaluate')));
  return lenses;
}

export function parseEvaluateArguments(args: unknown[] | undefined): { uri: string; path: JsonPath } | undefined {
  const [uri, path] = args ?? [];
  if (typeof uri !== 'string' || !Array.isArray(path) || !path.every((segment) => typeof segment === 'string' || typeof segment === 'number')) return undefined;
  return { uri, path: path as JsonPath };
}

export async function evaluateAt(policy: AnalyzedPolicy, path: JsonPath): Promise<EvaluateResult> {
  const compiled = policy.analysis.compiled;
  if (!compiled) return { kind: 'error', message: 'the policy has errors; fix them to evaluate it' };
  const options = { catalog: policy.catalog };
  if (path[0] === 'tests' && typeof path[1] === 'number') {
    const test = readPolicyTests(policy.json, compiled).find((candidate) => candidate.index === path[1]);
    if (!test) return { kind: 'error', message: `no test at ${formatJsonPath(path)}` };
    const result = await runPolicyTest(compiled, policy.json, test, options);
    return {
      kind: 'test',
      name: test.name,
      passed: result.passed,
      failures: result.failures.map((failure) => ({ message: failure.message, line: policy.textDocument.positionAt(failure.range.offset).line })),
      events: result.events,
    };
  }
  const entry = ruleEntries(policy.json.value).find((candidate) => formatJsonPath(candidate.path) === formatJsonPath(path));
  if (!entry) return { kind: 'error', message: `no rule at ${formatJsonPath(path)}` };
  const server = entry.server ?? defaultServerOf(compiled);
  const rule = formatJsonPath(entry.path);
  const tool = sampleTool(policy, server, entry.key, rule);
  if (!tool) return { kind: 'error', message: `no catalog tool is decided by ${rule}: every tool it matches is hidden or taken by another rule` };
  const call: ToolCall = { server, tool, arguments: {}, client: 'mcp-policy evaluate' };
  const action = compiled.plan(server, tool).action;
  const event = await testEngine(compiled, options).decide(call, scriptedApprover(action === 'approve' ? 'yes' : undefined));
  return { kind: 'rule', rule, call, event, ...(action === 'approve' ? { note: 'the approver was assumed to say yes' } : {}) };
}

/** The rule's own name, or for a glob the first catalog tool it decides. */
function sampleTool(policy: AnalyzedPolicy, server: string, key: string, rule: string): string | undefined {
  const glob = compileGlob(key);
  if (!glob.isGlob) return key;
  const compiled = policy.analysis.compiled!;
  for (const name of policy.catalog.toolNamesFor(server)) {
    if (glob.matches(name) && !compiled.isHidden(server, name) && compiled.findRule(server, name)?.pathText === rule) return name;
  }
  return undefined;
}
