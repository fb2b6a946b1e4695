/**
 * Runs a policy's tests for the Testing view, on the text the editor holds (unsaved edits
 * included), with the same loader and runner as `mcp-policy test`. Loaded on the first run,
 * so the engine is not evaluated at activation.
 */
import { loadPolicyText } from '../core/analyze';
import type { TextRange } from '../core/diagnostic';
import type { DecisionEvent } from '../core/events';
import { readPolicyTests, runPolicyTest } from '../core/policyTests';

export interface TestRunFailure {
  message: string;
  /** Where the failing step's `expect` is written. */
  range: TextRange;
}

export type TestRunOutcome =
  | { kind: 'passed'; events: DecisionEvent[]; ms: number }
  | { kind: 'failed'; failures: TestRunFailure[]; events: DecisionEvent[]; ms: number }
  /** The test is not in the text any more (renamed or removed since it was listed). */
  | { kind: 'missing' };

export type PolicyRun =
  /** The policy has errors: nothing it would enforce can be tested. */
  | { kind: 'invalid'; errors: Array<{ message: string; range: TextRange }> }
  | { kind: 'ran'; outcomes: Map<string, TestRunOutcome> };

/** Runs the tests named in `names` (test names, as the Testing view lists them). */
export async function runTestsOfText(path: string, text: string, names: ReadonlySet<string>, cancelled: () => boolean): Promise<PolicyRun> {
  const loaded = loadPolicyText(path, text);
  const compiled = loaded.compiled;
  if (!compiled) {
    const errors = loaded.diagnostics.filter((diagnostic) => diagnostic.severity === 'error').map((diagnostic) => ({ message: diagnostic.message, range: diagnostic.range }));
    return { kind: 'invalid', errors };
  }
  const outcomes = new Map<string, TestRunOutcome>();
  const tests = readPolicyTests(loaded.document, compiled);
  for (const name of names) {
    if (cancelled()) break;
    const test = tests.find((candidate) => candidate.name === name);
    if (!test) {
      outcomes.set(name, { kind: 'missing' });
      continue;
    }
    const started = performance.now();
    const result = await runPolicyTest(compiled, loaded.document, test, { catalog: loaded.catalog });
    const ms = performance.now() - started;
    if (result.passed) outcomes.set(name, { kind: 'passed', events: result.events, ms });
    else {
      const failures = result.failures.map((failure) => ({ message: failure.message, range: loaded.document.rangeOf([...failure.path, 'expect']) }));
      outcomes.set(name, { kind: 'failed', failures, events: result.events, ms });
    }
  }
  return { kind: 'ran', outcomes };
}
