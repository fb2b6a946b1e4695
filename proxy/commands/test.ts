import { parseArgs } from 'node:util';
import { loadPolicyFile, runPolicyTests, unexercised, type CoverageItem, type LoadedPolicy, type PolicyTestResult } from '../../core';
import { UsageError, type CommandSpec } from '../cliSupport';

interface FileRun {
  file: string;
  loaded: LoadedPolicy;
  results: PolicyTestResult[];
  uncovered: CoverageItem[];
}

export const testCommand: CommandSpec = {
  usage: 'test [--catalog F]... [--format text|junit|json] POLICY...',
  summary: "run the tests written in policy files (their `tests` key); exit 1 on any failure",
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { catalog: { type: 'string', multiple: true }, format: { type: 'string', default: 'text' } },
    });
    const format = values.format;
    if (format !== 'text' && format !== 'json' && format !== 'junit') throw new UsageError(`--format must be text, junit or json, not "${format}"`);
    if (positionals.length === 0) throw new UsageError('name at least one policy file');
    let exitCode = 0;
    const runs: FileRun[] = [];
    for (const file of positionals) {
      const loaded = loadPolicyFile(file, values.catalog ?? []);
      if (!loaded.compiled || !loaded.policy) {
        // Tests of a policy that does not load would test nothing the proxy enforces.
        for (const diagnostic of loaded.diagnostics.filter((d) => d.severity === 'error')) {
          const { line, character } = loaded.document.lines.positionAt(diagnostic.range.offset);
          process.stderr.write(`${file}:${line + 1}:${character + 1}: error: ${diagnostic.message} [${diagnostic.code}]\n`);
        }
        exitCode = Math.max(exitCode, loaded.diagnostics.some((d) => d.code === 'unreadable-file') ? 2 : 1);
        continue;
      }
      const results = await runPolicyTests(loaded.compiled, loaded.document, { catalog: loaded.catalog });
      if (results.some((result) => !result.passed)) exitCode = Math.max(exitCode, 1);
      runs.push({ file, loaded, results, uncovered: unexercised(loaded.policy, results) });
    }
    if (format === 'json') process.stdout.write(`${JSON.stringify(runs.map(jsonOf), null, 2)}\n`);
    else if (format === 'junit') process.stdout.write(junitOf(runs));
    else process.stdout.write(textOf(runs));
    return exitCode;
  },
};

function position(run: FileRun, offset: number): { line: number; column: number } {
  const { line, character } = run.loaded.document.lines.positionAt(offset);
  return { line: line + 1, column: character + 1 };
}

function textOf(runs: readonly FileRun[]): string {
  let out = '';
  let passed = 0;
  let failed = 0;
  for (const run of runs) {
    if (run.results.length === 0) out += `${run.file}: no tests (add a "tests" list to the policy)\n`;
    for (const result of run.results) {
      if (result.passed) {
        passed++;
        continue;
      }
      failed++;
      for (const failure of result.failures) {
        const at = position(run, failure.range.offset);
        out += `${run.file}:${at.line}:${at.column}: FAIL ${result.test.name}: ${failure.message}\n`;
      }
    }
    if (run.uncovered.length > 0) {
      out += `${run.file}: no test exercised ${run.uncovered.length} of the policy's rules, hide entries and limits:\n`;
      for (const item of run.uncovered) {
        const at = position(run, run.loaded.document.rangeOf(item.path, 'key').offset);
        out += `  ${run.file}:${at.line}:${at.column}: ${item.kind} ${item.label}\n`;
      }
    }
  }
  out += `${passed + failed} tests: ${passed} passed, ${failed} failed${runs.length > 1 ? ` in ${runs.length} policies` : ''}\n`;
  return out;
}

function jsonOf(run: FileRun): unknown {
  return {
    file: run.file,
    tests: run.results.map((result) => ({
      name: result.test.name,
      ...position(run, result.range.offset),
      passed: result.passed,
      failures: result.failures.map((failure) => ({ ...position(run, failure.range.offset), message: failure.message, expected: failure.expected, event: failure.event })),
      decisions: result.events.map((event) => ({ tool: event.tool, decision: event.decision, rule: event.rule, reason: event.reason })),
    })),
    uncovered: run.uncovered.map((item) => ({ kind: item.kind, label: item.label, ...position(run, run.loaded.document.rangeOf(item.path, 'key').offset) })),
  };
}

function junitOf(runs: readonly FileRun[]): string {
  const total = runs.reduce((sum, run) => sum + run.results.length, 0);
  const failures = runs.reduce((sum, run) => sum + run.results.filter((result) => !result.passed).length, 0);
  let out = `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="mcp-policy test" tests="${total}" failures="${failures}">\n`;
  for (const run of runs) {
    const runFailures = run.results.filter((result) => !result.passed).length;
    out += `  <testsuite name="${xml(run.file)}" tests="${run.results.length}" failures="${runFailures}">\n`;
    for (const result of run.results) {
      const at = position(run, result.range.offset);
      out += `    <testcase name="${xml(result.test.name)}" classname="${xml(run.file)}" file="${xml(run.file)}" line="${at.line}"`;
      if (result.passed) {
        out += ' />\n';
        continue;
      }
      out += '>\n';
      for (const failure of result.failures) {
        const where = position(run, failure.range.offset);
        out += `      <failure message="${xml(failure.message)}" type="${xml(failure.expected)}">${xml(`${run.file}:${where.line}:${where.column}: ${failure.message}`)}</failure>\n`;
      }
      out += '    </testcase>\n';
    }
    out += '  </testsuite>\n';
  }
  return `${out}</testsuites>\n`;
}

function xml(text: string): string {
  return text.replace(/[<>&"']/g, (char) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[char] ?? char);
}
