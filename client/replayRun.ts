/**
 * Replays the window's recorded decisions against a draft policy (the editor's text), with the
 * same replay `mcp-policy replay` runs on an audit log. Loaded on first use.
 */
import { loadPolicyText } from '../core/analyze';
import type { TextRange } from '../core/diagnostic';
import type { DecisionEvent } from '../core/events';
import { replayAudit, type ReplayReport } from '../core/replay';

export type ReplayOutcome = { kind: 'invalid'; errors: Array<{ message: string; range: TextRange }> } | { kind: 'replayed'; report: ReplayReport };

/**
 * The store's events become the audit log's decision lines. The store keeps a forwarded call's
 * upstream answer on its event; in a log that is a line of its own, so it is left out here.
 */
export function auditLinesOf(events: readonly DecisionEvent[]): string {
  return events
    .map((event) => {
      const { upstream: _answer, ...decision } = event;
      return JSON.stringify(decision);
    })
    .join('\n');
}

export async function replayDecisions(events: readonly DecisionEvent[], draftPath: string, draftText: string): Promise<ReplayOutcome> {
  const loaded = loadPolicyText(draftPath, draftText);
  if (!loaded.compiled) {
    return { kind: 'invalid', errors: loaded.diagnostics.filter((diagnostic) => diagnostic.severity === 'error').map((diagnostic) => ({ message: diagnostic.message, range: diagnostic.range })) };
  }
  return { kind: 'replayed', report: await replayAudit(auditLinesOf(events), loaded.compiled, { catalog: loaded.catalog }) };
}
