import * as vscode from 'vscode';
import { BLOCKED_DECISIONS, type DecisionEvent } from '../core/events';
import type { UpstreamOutcome } from '../proxy/host';
import type { DecisionFilter } from './decisionFilter';

/** How often the view may redraw while calls stream in: a burst of thousands is one redraw. */
const REFRESH_MS = 100;

/**
 * The decisions of this window, oldest first internally, capped at `max`. Changes are
 * coalesced: listeners hear at most one change per REFRESH_MS.
 */
export class DecisionStore implements vscode.Disposable {
  private events: DecisionEvent[] = [];
  private readonly byId = new Map<string, DecisionEvent>();
  private blocked = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  constructor(private max: number) {}

  setMax(max: number): void {
    this.max = max;
    this.trim();
    this.schedule();
  }

  add(event: DecisionEvent): void {
    this.events.push(event);
    this.byId.set(event.id, event);
    if (BLOCKED_DECISIONS.has(event.decision)) this.blocked++;
    // Trim in slices, not per event, so a full store stays O(1) per decision.
    if (this.events.length > this.max + Math.max(10, this.max >> 4)) this.trim();
    this.schedule();
  }

  /**
   * Decisions read back from the audit log (oldest first), placed before the ones of this
   * window; any already here (a live call written while the log was read) is kept once.
   */
  addHistory(history: readonly DecisionEvent[]): void {
    const older = history.filter((event) => !this.byId.has(event.id));
    if (older.length === 0) return;
    for (const event of older) {
      this.byId.set(event.id, event);
      if (BLOCKED_DECISIONS.has(event.decision)) this.blocked++;
    }
    this.events = [...older, ...this.events];
    this.trim();
    this.schedule();
  }

  /** A forwarded call's upstream answer, shown in its tooltip. */
  addUpstream(outcome: UpstreamOutcome): void {
    const event = this.byId.get(outcome.id);
    if (!event) return;
    event.upstream = { ok: outcome.ok, ms: outcome.ms, ...(outcome.error !== undefined ? { error: outcome.error } : {}) };
    this.schedule();
  }

  clear(): void {
    this.events = [];
    this.byId.clear();
    this.blocked = 0;
    this.schedule();
  }

  /** Newest first, those the filter lets through. */
  list(filter?: DecisionFilter): DecisionEvent[] {
    const out: DecisionEvent[] = [];
    const from = Math.max(0, this.events.length - this.max);
    const now = Date.now();
    for (let i = this.events.length - 1; i >= from; i--) {
      const event = this.events[i]!;
      if (!filter || filter.matches(event, now)) out.push(event);
    }
    return out;
  }

  /** Oldest first, as an audit log reads; with a filter, what the view shows. */
  all(filter?: DecisionFilter): readonly DecisionEvent[] {
    const kept = this.events.slice(Math.max(0, this.events.length - this.max));
    if (!filter) return kept;
    const now = Date.now();
    return kept.filter((event) => filter.matches(event, now));
  }

  /** Server names seen, for the filter's hints. */
  servers(): string[] {
    return [...new Set(this.all().map((event) => event.server))].sort();
  }

  get size(): number {
    return Math.min(this.events.length, this.max);
  }

  /** Blocked calls since the last Clear (including ones trimmed away). */
  get blockedCount(): number {
    return this.blocked;
  }

  private trim(): void {
    const excess = this.events.length - this.max;
    if (excess <= 0) return;
    for (const gone of this.events.splice(0, excess)) this.byId.delete(gone.id);
  }

  private schedule(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.changed.fire();
    }, REFRESH_MS);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.changed.dispose();
  }
}
