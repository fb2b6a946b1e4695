import { existsSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadPolicyFile, type PolicyDiagnostic } from '../../core';
import { UsageError, type CommandSpec } from '../cliSupport';

interface Reported {
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  severity: PolicyDiagnostic['severity'];
  code: string;
  message: string;
}

export const checkCommand: CommandSpec = {
  usage: 'check [--catalog F]... [--max-warnings N] [--format text|json] POLICY...',
  summary: 'validate policy files',
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { catalog: { type: 'string', multiple: true }, format: { type: 'string', default: 'text' }, 'max-warnings': { type: 'string' } },
    });
    if (values.format !== 'text' && values.format !== 'json') throw new UsageError(`--format must be text or json, not "${values.format}"`);
    if (positionals.length === 0) throw new UsageError('name at least one policy file');
    const maxWarnings = values['max-warnings'] === undefined ? undefined : Number(values['max-warnings']);
    if (maxWarnings !== undefined && (!Number.isInteger(maxWarnings) || maxWarnings < 0)) {
      throw new UsageError(`--max-warnings must be a whole number (0 or more), not "${values['max-warnings']}"`);
    }
    // A catalog named on the command line is what the user asked to check against: without it
    // every tool name would pass unchecked.
    for (const file of values.catalog ?? []) {
      if (!existsSync(file)) throw new UsageError(`--catalog ${file}: file not found`);
      if (!statSync(file).isFile()) throw new UsageError(`--catalog ${file}: not a file`);
    }
    let exitCode = 0;
    const reported: Reported[] = [];
    let warnings = 0;
    for (const file of positionals) {
      const loaded = loadPolicyFile(file, values.catalog ?? []);
      if (loaded.catalog.isEmpty && loaded.policy) process.stderr.write(`${file}: no tool catalog found (mcp-policy.catalog.json beside the policy, "catalog" or --catalog): tool names were not checked\n`);
      const lines = loaded.document.lines;
      for (const diagnostic of loaded.diagnostics) {
        const start = lines.positionAt(diagnostic.range.offset);
        const end = lines.positionAt(diagnostic.range.offset + diagnostic.range.length);
        reported.push({
          file,
          line: start.line + 1,
          column: start.character + 1,
          endLine: end.line + 1,
          endColumn: end.character + 1,
          severity: diagnostic.severity,
          code: diagnostic.code,
          message: diagnostic.message,
        });
        if (diagnostic.code === 'unreadable-file') exitCode = 2;
        else if (diagnostic.severity === 'error') exitCode = Math.max(exitCode, 1);
        else if (diagnostic.severity === 'warning') warnings++;
      }
    }
    if (maxWarnings !== undefined && warnings > maxWarnings) {
      process.stderr.write(`${warnings} warning${warnings === 1 ? '' : 's'}, more than --max-warnings ${maxWarnings}\n`);
      exitCode = Math.max(exitCode, 1);
    }
    if (values.format === 'json') process.stdout.write(`${JSON.stringify(reported, null, 2)}\n`);
    else for (const item of reported) process.stdout.write(`${item.file}:${item.line}:${item.column}: ${item.severity}: ${item.message} [${item.code}]\n`);
    return exitCode;
  },
};
