/**
 * A policy's own tests (the `tests` key of the policy file): calls and the decisions they
 * must get, run on the real engine with a test clock, fresh memory counters per test and
 * scripted approval answers. The CLI (`mcp-policy test`) and the language server share this.
 */
import type { ToolCatalog } from './catalog';
import { ManualClock } from './clock';
import type { CompiledPolicy } from './compile';
import { MemoryCounterStore } from './counters';
import type { TextRange } from './diagnostic';
import type { JsonDocument } from './document';
import { PolicyEngine, type Approver, type ToolCall } from './engine';
import type { Decision, DecisionEvent } from './events';
import type { JsonPath } from './jsonPath';
import { isObject } from './sanitize';

export type ScriptedApproval = 'yes' | 'no' | 'timeout';

const DECISIONS: readonly Decision[] = ['allowed', 'approved', 'denied', 'rate_limited', 'invalid_arguments', 'rejected'];

/** One call of a test and what it must get. */
export interface PolicyTestStep {
  call: ToolCall;
  approval: ScriptedApproval | undefined;
  expect: Decision;
  rule: string | undefined;
  reason: string | undefined;
  retryAfterSeconds: number | undefined;
  /** Seconds since the test started; undefined: no time passes since the step before. */
  at: number | undefined;
  repeat: number;
  /** Where the step is written: the test itself for a one-call test. */
  path: JsonPath;
}

export interface PolicyTest {
  name: string;
  index: number;
  path: JsonPath;
  steps: PolicyTestStep[];
}

export interface PolicyTestFailure {
  message: string;
  path: JsonPath;
  range: TextRange;
  expected: Decision;
  event: DecisionEvent;
}

export interface PolicyTestResult {
  test: PolicyTest;
  range: TextRange;
  passed: boolean;
  failures: PolicyTestFailure[];
  /** Every decision the test's calls got, in order. */
  events: DecisionEvent[];
  /** JSON paths of the rules, hide entries and limits the test's calls met. */
  exercised: Set<string>;
}

export interface PolicyTestOptions {
  catalog?: ToolCatalog;
}

/** Where a test clock starts: fixed, so that failures read the same on every run. */
const TEST_CLOCK_START = Date.UTC(2026, 0, 1, 0, 0, 0);

/** The tests written in a policy document; entries that are not tests are skipped (the schema reports them). */
export function readPolicyTests(document: JsonDocument, compiled: CompiledPolicy): PolicyTest[] {
  const value = document.value;
  if (!isObject(value) || !Array.isArray(value.tests)) return [];
  const defaultServer = defaultServerOf(compiled);
  const tests: PolicyTest[] = [];
  value.tests.forEach((raw: unknown, index: number) => {
    if (!isObject(raw) || typeof raw.name !== 'string') return;
    const path: JsonPath = ['tests', index];
    const inherited = { server: stringOr(raw.server, defaultServer), session: optionalString(raw.session), grant: optionalString(raw.grant) };
    const steps: PolicyTestStep[] = [];
    if (Array.isArray(raw.steps)) {
      raw.steps.forEach((step: unknown, stepIndex: number) => {
        const read = isObject(step) ? readStep(step, inherited, [...path, 'steps', stepIndex]) : undefined;
        if (read) steps.push(read);
      });
    } else {
      const read = readStep(raw, inherited, path);
      if (read) steps.push(read);
    }
    tests.push({ name: raw.name, index, path, steps });
  });
  return tests;
}

export function defaultServerOf(compiled: CompiledPolicy): string {
  const servers = compiled.serverNames;
  return servers.length === 1 ? servers[0]! : 'default';
}

function readStep(raw: Record<string, unknown>, inherited: { server: string; session: string | undefined; grant: string | undefined }, path: JsonPath): PolicyTestStep | undefined {
  if (typeof raw.tool !== 'string' || !DECISIONS.includes(raw.expect as Decision)) return undefined;
  const call: ToolCall = { server: stringOr(raw.server, inherited.server), tool: raw.tool, arguments: isObject(raw.arguments) ? raw.arguments : {}, client: 'mcp-policy test' };
  const session = optionalString(raw.session) ?? inherited.session;
  const grant = optionalString(raw.grant) ?? inherited.grant;
  if (session !== undefined) call.session = session;
  if (grant !== undefined) call.grant = grant;
  const approval = raw.approval === 'yes' || raw.approval === 'no' || raw.approval === 'timeout' ? raw.approval : undefined;
  return {
    call,
    approval,
    expect: raw.expect as Decision,
    rule: optionalString(raw.rule),
    reason: optionalString(raw.reason),
    retryAfterSeconds: typeof raw.retry_after === 'number' ? raw.retry_after : undefined,
    at: typeof raw.at === 'number' && raw.at >= 0 ? raw.at : undefined,
    repeat: Number.isInteger(raw.repeat) && (raw.repeat as number) >= 1 ? (raw.repeat as number) : 1,
    path,
  };
}

/** An approver that answers as the step says; "timeout" never answers (the test's timer ends the wait). */
export function scriptedApprover(approval: ScriptedApproval | undefined): Approver | undefined {
  if (approval === 'yes') return async () => ({ approved: true, by: 'the test' });
  if (approval === 'no') return async () => ({ approved: false, by: 'the test' });
  if (approval === 'timeout') return (request) => new Promise((_resolve, reject) => request.signal.addEventListener('abort', () => reject(new Error('timed out')), { once: true }));
  return undefined;
}

/**
 * A fresh engine for one test: test clock, memory counters. An approval times out at once
 * when `timesOut()` says so (a step scripted "timeout"), and never otherwise: a scripted
 * answer must not race a timer.
 */
export function testEngine(compiled: CompiledPolicy, options: PolicyTestOptions, clock = new ManualClock(TEST_CLOCK_START), timesOut: () => boolean = () => false): PolicyEngine {
  const catalog = options.catalog;
  return new PolicyEngine(compiled, {
    clock,
    counters: new MemoryCounterStore(),
    inputSchemas: (server, tool) => catalog?.find(tool, server)?.inputSchema,
    approvalTimer: () => (timesOut() ? Promise.resolve() : new Promise<void>(() => undefined)),
  });
}

export async function runPolicyTest(compiled: CompiledPolicy, document: JsonDocument, test: PolicyTest, options: PolicyTestOptions = {}): Promise<PolicyTestResult> {
  const clock = new ManualClock(TEST_CLOCK_START);
  let approval: ScriptedApproval | undefined;
  const engine = testEngine(compiled, options, clock, () => approval === 'timeout');
  const result: PolicyTestResult = { test, range: document.rangeOf(test.path, 'value'), passed: true, failures: [], events: [], exercised: new Set() };
  for (const [stepIndex, step] of test.steps.entries()) {
    const stepNumber = stepIndex + 1;
    if (step.at !== undefined) {
      const when = TEST_CLOCK_START + step.at * 1000;
      if (when >= clock.now()) clock.set(when);
    }
    approval = step.approval;
    for (let round = 1; round <= step.repeat; round++) {
      const event = await engine.decide(step.call, scriptedApprover(step.approval));
      result.events.push(event);
      for (const path of exercisedBy(compiled, step.call, event)) result.exercised.add(path);
      const problem = mismatch(step, event);
      if (problem) {
        const where = test.steps.length > 1 || step.repeat > 1 ? ` at ${step.call.tool}, step ${stepNumber} of ${test.steps.length}${step.repeat > 1 ? `, call ${round} of ${step.repeat}` : ''}` : '';
        result.failures.push({ message: `${problem}${where}`, path: step.path, range: document.rangeOf(step.path, 'value'), expected: step.expect, event });
      }
    }
  }
  result.passed = result.failures.length === 0;
  return result;
}

export async function runPolicyTests(compiled: CompiledPolicy, document: JsonDocument, options: PolicyTestOptions = {}): Promise<PolicyTestResult[]> {
  const results: PolicyTestResult[] = [];
  for (const test of readPolicyTests(document, compiled)) results.push(await runPolicyTest(compiled, document, test, options));
  return results;
}

/** What is wrong with the event, as `expected X, got Y (rule …)`; undefined when it is what the step expects. */
function mismatch(step: PolicyTestStep, event: DecisionEvent): string | undefined {
  const got = `${event.decision} (rule ${event.rule}: ${event.reason})`;
  if (event.decision !== step.expect) return `expected ${step.expect}, got ${got}`;
  if (step.rule !== undefined && event.rule !== step.rule) return `expected rule ${step.rule}, got ${got}`;
  if (step.reason !== undefined && !event.reason.toLowerCase().includes(step.reason.toLowerCase())) {
    return `expected a reason containing "${step.reason}", got ${got}`;
  }
  if (step.retryAfterSeconds !== undefined) {
    const seconds = event.retryAfterMs === undefined ? undefined : Math.ceil(event.retryAfterMs / 1000);
    if (seconds !== step.retryAfterSeconds) return `expected retry after ${step.retryAfterSeconds} s, got ${seconds === undefined ? 'no retry time' : `${seconds} s`} (${got})`;
  }
  return undefined;
}

/** The rule, hide entry and (when it refused the call) limit a call met, as JSON paths. */
function exercisedBy(compiled: CompiledPolicy, call: ToolCall, event: DecisionEvent): string[] {
  const plan = compiled.plan(call.server, call.tool);
  const paths: string[] = [];
  if (plan.hiddenBy) paths.push(plan.hiddenBy.path);
  else if (plan.rule) paths.push(plan.rule.pathText);
  else paths.push(plan.decidedBy);
  if (event.decision === 'rate_limited' && event.counter !== undefined) paths.push(limitKey(event.rule, event.counter));
  return paths;
}

/** A limit is known by what it belongs to and its counter: that is what a rate_limited event names. */
export function limitKey(rulePath: string, counter: string): string {
  return `limit ${counter} of ${rulePath}`;
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === 'string' && value.length > 0 ? value : fallback;
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
