/**
 * Replay: the calls an audit log recorded, decided again by a draft policy, in recorded time
 * order on a test clock with fresh memory counters, so limits see the same traffic. A call the
 * draft sends to approval gets the answer the log recorded for it, when it recorded one.
 */
import type { ToolCatalog } from './catalog';
import { ManualClock } from './clock';
import type { CompiledPolicy } from './compile';
import { MemoryCounterStore } from './counters';
import { PolicyEngine, type ToolCall, type Verdict } from './engine';
import { REDACTED, type Decision, type DecisionEvent } from './events';
import { formatJsonPath } from './jsonPath';

/** What the draft does with a call: a decision, or "needs approval" when the log has no answer to reuse. */
export type ReplayedDecision = Decision | 'approval_required';

export interface ReplayedCall {
  /** The recorded event, as the log has it. */
  recorded: DecisionEvent;
  /** 1-based line of the audit log. */
  line: number;
  decision: ReplayedDecision;
  rule: string;
  reason: string;
  /** Redacted argument values the draft's argument checks looked at: the real values might decide otherwise. */
  redactedChecked: string[];
}

export interface ReplayReport {
  calls: ReplayedCall[];
  /** Calls whose decision changes. */
  changed: ReplayedCall[];
  /** Same decision, decided by another rule. */
  ruleChanged: ReplayedCall[];
  /** "allowed → rate_limited" and how many calls made that change. */
  totals: Map<string, number>;
  /** Lines that are not decisions (outcome lines are skipped silently; these are reported). */
  skipped: Array<{ line: number; why: string }>;
}

export interface ReplayOptions {
  catalog?: ToolCatalog;
}

/** Decision lines of an audit log's text; outcome and drift lines are not decisions. */
export function readAuditDecisions(text: string): { decisions: Array<{ line: number; event: DecisionEvent }>; skipped: Array<{ line: number; why: string }> } {
  const decisions: Array<{ line: number; event: DecisionEvent }> = [];
  const skipped: Array<{ line: number; why: string }> = [];
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim().length === 0) return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      skipped.push({ line, why: 'not JSON' });
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      skipped.push({ line, why: 'not a JSON object' });
      return;
    }
    const event = value as Partial<DecisionEvent>;
    // Outcome lines (with `upstream`) and drift lines (`"event":"drift"`) are not calls to decide.
    if (event.upstream !== undefined || (value as { event?: unknown }).event === 'drift') return;
    if (typeof event.server !== 'string' || typeof event.tool !== 'string' || typeof event.decision !== 'string' || typeof event.time !== 'string' || Number.isNaN(Date.parse(event.time))) {
      skipped.push({ line, why: 'not a decision event (needs server, tool, decision and time)' });
      return;
    }
    decisions.push({ line, event: event as DecisionEvent });
  });
  return { decisions, skipped };
}

export async function replayAudit(text: string, draft: CompiledPolicy, options: ReplayOptions = {}): Promise<ReplayReport> {
  const { decisions, skipped } = readAuditDecisions(text);
  // Recorded time order; the line order breaks ties (a log is appended in decision order).
  const ordered = [...decisions].sort((a, b) => Date.parse(a.event.time) - Date.parse(b.event.time) || a.line - b.line);
  const clock = new ManualClock(ordered[0] ? Date.parse(ordered[0].event.time) : 0);
  const catalog = options.catalog;
  const engine = new PolicyEngine(draft, { clock, counters: new MemoryCounterStore(), inputSchemas: (server, tool) => catalog?.find(tool, server)?.inputSchema });
  const report: ReplayReport = { calls: [], changed: [], ruleChanged: [], totals: new Map(), skipped };
  for (const { line, event } of ordered) {
    const at = Date.parse(event.time);
    if (at > clock.now()) clock.set(at);
    const call: ToolCall = { server: event.server, tool: event.tool, arguments: event.arguments ?? {} };
    if (event.session !== undefined) call.session = event.session;
    if (event.grant !== undefined) call.grant = event.grant;
    if (event.client !== undefined) call.client = event.client;
    const verdict = await engine.evaluate(call);
    const replayed: ReplayedCall = { recorded: event, line, ...afterApproval(verdict, event), redactedChecked: redactedChecked(verdict, call.arguments) };
    report.calls.push(replayed);
    if (replayed.decision !== event.decision) {
      report.changed.push(replayed);
      const change = `${event.decision} → ${replayed.decision}`;
      report.totals.set(change, (report.totals.get(change) ?? 0) + 1);
    } else if (replayed.rule !== event.rule) {
      report.ruleChanged.push(replayed);
    }
  }
  return report;
}

/** An approval the log recorded is answered the same way again; its units are given back when it was refused. */
function afterApproval(verdict: Verdict, recorded: DecisionEvent): { decision: ReplayedDecision; rule: string; reason: string } {
  if (verdict.decision !== 'approval_required') return { decision: verdict.decision, rule: verdict.rule, reason: verdict.reason };
  if (recorded.decision === 'approved') return { decision: 'approved', rule: verdict.rule, reason: 'approved (the recorded answer)' };
  if (recorded.decision === 'rejected') {
    verdict.reservation.release();
    return { decision: 'rejected', rule: verdict.rule, reason: `rejected (the recorded answer: ${recorded.reason})` };
  }
  // No recorded answer; the call does not spend a budget until someone approves it.
  verdict.reservation.release();
  return { decision: 'approval_required', rule: verdict.rule, reason: `${verdict.reason}: a person would be asked` };
}

/** Paths of redacted values in arguments the draft checks (validate_input or the rule's arguments schema). */
function redactedChecked(verdict: Verdict, args: unknown): string[] {
  const plan = verdict.plan;
  if (plan.hiddenBy || plan.action === 'deny' || !plan.rule) return [];
  if (!plan.validateInput && !plan.rule.argumentsSchema) return [];
  const paths: string[] = [];
  const walk = (value: unknown, path: Array<string | number>): void => {
    if (value === REDACTED) paths.push(formatJsonPath(path) || '(the arguments)');
    else if (Array.isArray(value)) value.forEach((item, index) => walk(item, [...path, index]));
    else if (value !== null && typeof value === 'object') for (const [key, inner] of Object.entries(value)) walk(inner, [...path, key]);
  };
  walk(args, []);
  return paths;
}
