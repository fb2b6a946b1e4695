import { DiagnosticSeverity, type Diagnostic } from 'vscode-languageserver/node';
import { isObject, runPolicyTests } from '../core';
import { SOURCE } from './diagnostics';
import type { AnalyzedPolicy } from './documents';

export const TEST_FAILED_CODE = 'policy-test-failed';

interface Run {
  version: number;
  catalogGeneration: number;
  diagnostics: Diagnostic[] | undefined;
}

/**
 * A policy's tests, run after typing pauses, as diagnostics at each failing step's `expect`.
 * Results are kept per document version: the other diagnostics are published with them, and
 * `onChange` says when a run for the current version finished.
 */
export class PolicyTestDiagnostics {
  private readonly runs = new Map<string, Run>();
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly onChange: (uri: string) => void, private readonly delayMs = 300) {}

  /** Failing tests of this version; none while its run is pending. */
  current(uri: string, version: number | undefined): Diagnostic[] {
    const run = this.runs.get(uri);
    return run && run.version === version ? (run.diagnostics ?? []) : [];
  }

  /** Schedules a run for this version of the policy, unless one is done or under way. */
  schedule(policy: AnalyzedPolicy): void {
    const known = this.runs.get(policy.uri);
    if (known && known.version === policy.version && known.catalogGeneration === policy.catalogGeneration) return;
    const value = policy.json.value;
    const compiled = policy.analysis.compiled;
    const run: Run = { version: policy.version, catalogGeneration: policy.catalogGeneration, diagnostics: undefined };
    this.runs.set(policy.uri, run);
    const pending = this.timers.get(policy.uri);
    if (pending) clearTimeout(pending);
    if (!compiled || !isObject(value) || !Array.isArray(value.tests) || value.tests.length === 0) {
      // Nothing to run: a policy with errors shows those, and no test results that would be stale.
      const hadFailures = (known?.diagnostics?.length ?? 0) > 0;
      run.diagnostics = [];
      if (hadFailures) this.onChange(policy.uri);
      return;
    }
    this.timers.set(
      policy.uri,
      setTimeout(() => {
        this.timers.delete(policy.uri);
        void runPolicyTests(compiled, policy.json, { catalog: policy.catalog }).then((results) => {
          if (this.runs.get(policy.uri) !== run) return;
          const document = policy.textDocument;
          run.diagnostics = results.flatMap((result) =>
            result.failures.map((failure): Diagnostic => {
              const range = policy.json.rangeOf([...failure.path, 'expect']);
              return {
                range: { start: document.positionAt(range.offset), end: document.positionAt(range.offset + range.length) },
                severity: DiagnosticSeverity.Error,
                code: TEST_FAILED_CODE,
                source: SOURCE,
                message: `test "${result.test.name}" fails: ${failure.message}`,
              };
            }),
          );
          this.onChange(policy.uri);
        }, () => {
          // A run that fails shows no results rather than taking the server down.
          if (this.runs.get(policy.uri) === run) run.diagnostics = [];
        });
      }, this.delayMs),
    );
  }

  forget(uri: string): void {
    const pending = this.timers.get(uri);
    if (pending) clearTimeout(pending);
    this.timers.delete(uri);
    this.runs.delete(uri);
  }

  dispose(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
