import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadPolicyFile, replayAudit, type ReplayedCall, type ReplayReport } from '../../core';
import { UsageError, type CommandSpec } from '../cliSupport';

export const replayCommand: CommandSpec = {
  usage: 'replay AUDIT.jsonl --policy DRAFT [--catalog F]... [--fail-on-change] [--format text|json]',
  summary: 'decide the calls of an audit log again with a draft policy and print those whose decision changes',
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        policy: { type: 'string' },
        catalog: { type: 'string', multiple: true },
        'fail-on-change': { type: 'boolean', default: false },
        format: { type: 'string', default: 'text' },
      },
    });
    if (positionals.length !== 1) throw new UsageError('name exactly one audit log');
    if (!values.policy) throw new UsageError('--policy DRAFT is required');
    if (values.format !== 'text' && values.format !== 'json') throw new UsageError(`--format must be text or json, not "${values.format}"`);
    const auditFile = positionals[0]!;
    let text: string;
    try {
      text = readFileSync(auditFile, 'utf8');
    } catch (error) {
      process.stderr.write(`mcp-policy replay: cannot read ${auditFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}\n`);
      return 2;
    }
    const draftFile = values.policy;
    const loaded = loadPolicyFile(draftFile, values.catalog ?? []);
    if (!loaded.compiled) {
      for (const diagnostic of loaded.diagnostics.filter((d) => d.severity === 'error')) {
        const { line, character } = loaded.document.lines.positionAt(diagnostic.range.offset);
        process.stderr.write(`${draftFile}:${line + 1}:${character + 1}: error: ${diagnostic.message} [${diagnostic.code}]\n`);
      }
      return loaded.diagnostics.some((d) => d.code === 'unreadable-file') ? 2 : 1;
    }
    const report = await replayAudit(text, loaded.compiled, { catalog: loaded.catalog });
    process.stdout.write(values.format === 'json' ? `${JSON.stringify(jsonOf(report), null, 2)}\n` : textOf(report, auditFile, draftFile));
    return values['fail-on-change'] && report.changed.length > 0 ? 1 : 0;
  },
};

function describeCall(call: ReplayedCall): string {
  const event = call.recorded;
  const who = [event.grant && `grant ${event.grant}`, event.session && `session ${event.session}`].filter(Boolean).join(', ');
  return `line ${call.line} ${event.time} ${event.server}/${event.tool} ${JSON.stringify(event.arguments ?? {})}${who ? ` (${who})` : ''}`;
}

/** The log holds "[redacted]", not the value: a check of it decides on the placeholder. */
function redactedNote(call: ReplayedCall): string {
  const plural = call.redactedChecked.length > 1;
  return `the draft checks the redacted value${plural ? 's' : ''} at ${call.redactedChecked.join(', ')}; the log does not hold ${plural ? 'them' : 'it'}, so with the real value the decision could differ from ${call.decision}`;
}

function textOf(report: ReplayReport, auditFile: string, draftFile: string): string {
  let out = `${auditFile}: ${report.calls.length} recorded decisions replayed against ${draftFile}: ${report.changed.length} change${report.changed.length === 1 ? '' : 's'}\n`;
  for (const call of report.changed) {
    out += `  ${describeCall(call)}\n    ${call.recorded.decision} → ${call.decision} (rule ${call.recorded.rule} → ${call.rule}): ${call.reason}\n`;
    if (call.redactedChecked.length > 0) out += `    note: ${redactedNote(call)}\n`;
  }
  if (report.ruleChanged.length > 0) {
    out += `${report.ruleChanged.length} call(s) keep their decision under another rule:\n`;
    for (const call of report.ruleChanged) out += `  ${describeCall(call)}: ${call.decision} (rule ${call.recorded.rule} → ${call.rule})\n`;
  }
  const changed = new Set(report.changed);
  for (const call of report.calls.filter((entry) => entry.redactedChecked.length > 0 && !changed.has(entry))) {
    out += `  note: ${describeCall(call)}: ${redactedNote(call)}\n`;
  }
  for (const skipped of report.skipped) out += `  skipped line ${skipped.line}: ${skipped.why}\n`;
  if (report.totals.size > 0) out += `Totals: ${[...report.totals].map(([change, count]) => `${change}: ${count}`).join(', ')}\n`;
  else out += 'No decision changes.\n';
  return out;
}

function jsonOf(report: ReplayReport): unknown {
  const entry = (call: ReplayedCall): unknown => ({
    line: call.line,
    id: call.recorded.id,
    time: call.recorded.time,
    server: call.recorded.server,
    tool: call.recorded.tool,
    arguments: call.recorded.arguments,
    before: { decision: call.recorded.decision, rule: call.recorded.rule },
    after: { decision: call.decision, rule: call.rule, reason: call.reason },
    redactedChecked: call.redactedChecked,
  });
  return {
    replayed: report.calls.length,
    changed: report.changed.map(entry),
    ruleChanged: report.ruleChanged.map(entry),
    redactedChecked: report.calls.filter((call) => call.redactedChecked.length > 0).map(entry),
    totals: Object.fromEntries(report.totals),
    skipped: report.skipped,
  };
}
