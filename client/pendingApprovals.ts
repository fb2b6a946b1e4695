// The approvals the local proxy is waiting on, as one list every surface reads (the Pending
// group of the Decisions view, the status bar badge, the notification). No vscode import: the
// model is tested on its own (test/client/pendingApprovals.test.ts).
import { randomUUID } from 'node:crypto';
import type { ApprovalAnswer, ApprovalRequest } from '../core/engine';

/** Who answered, as decisions name it ("approved by VS Code"). */
export const ANSWERED_BY = 'VS Code';

export interface PendingApproval {
  /**
   * The key the view's commands and the notification's links carry: random, so no other
   * command link can name an approval it was not shown.
   */
  readonly id: string;
  readonly server: string;
  readonly tool: string;
  /** Redacted, as the audit log shows them. */
  readonly arguments: unknown;
  /** The rule that asked for approval, as a JSON path ("servers.fs.tools.create_directory"). */
  readonly rule: string;
  readonly reason: string | undefined;
  /** Epoch milliseconds. */
  readonly askedAt: number;
  /** Epoch milliseconds: no answer by then rejects the call. */
  readonly deadline: number;
}

/** How a pending approval ended. */
export type Settlement = 'answered' | 'timed_out' | 'cancelled';

export interface Disposable {
  dispose(): void;
}

type Listener<T> = (value: T) => void;

class Emitter<T> {
  private readonly listeners = new Set<Listener<T>>();
  readonly event = (listener: Listener<T>): Disposable => {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  };
  fire(value: T): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(value);
      } catch {
        // A failing surface must not keep the others (or the proxy's answer) from hearing it.
      }
    }
  }
  clear(): void {
    this.listeners.clear();
  }
}

interface Entry {
  readonly pending: PendingApproval;
  readonly resolve: (answer: ApprovalAnswer) => void;
  readonly timer: NodeJS.Timeout;
  readonly signal: AbortSignal;
  readonly onAbort: () => void;
}

export interface PendingApprovalsOptions {
  now?: () => number;
}

/**
 * Pending approvals, soonest deadline first. ask() adds one and returns the answer the proxy
 * waits for; the first of settle() (a user's answer, from any surface), the deadline and the
 * request's signal (the proxy or the client gave up) ends it, and later ones change nothing.
 */
export class PendingApprovals implements Disposable {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;
  private readonly changed = new Emitter<void>();
  private readonly settledEmitter = new Emitter<{ pending: PendingApproval; answer: ApprovalAnswer; how: Settlement }>();
  /** Any addition or removal. */
  readonly onDidChange = this.changed.event;
  /** One pending approval ended, and how. */
  readonly onDidSettle = this.settledEmitter.event;

  constructor(options: PendingApprovalsOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Adds the request and answers it when it is settled: approved only by settle(); no answer
   * within timeoutMs, or the request's signal, reject it.
   */
  ask(request: ApprovalRequest, timeoutMs: number): { pending: PendingApproval; answer: Promise<ApprovalAnswer> } {
    const askedAt = this.now();
    const pending: PendingApproval = {
      id: randomUUID(),
      server: request.server,
      tool: request.tool,
      arguments: request.arguments,
      rule: request.rule,
      reason: request.reason,
      askedAt,
      deadline: askedAt + timeoutMs,
    };
    const answer = new Promise<ApprovalAnswer>((resolve) => {
      const timer = setTimeout(
        () => this.end(pending.id, { approved: false, by: ANSWERED_BY, reason: `no answer in VS Code within ${Math.round(timeoutMs / 1000)} s` }, 'timed_out'),
        timeoutMs,
      );
      const onAbort = (): void => void this.end(pending.id, { approved: false, by: ANSWERED_BY, reason: 'the call was cancelled' }, 'cancelled');
      this.entries.set(pending.id, { pending, resolve, timer, signal: request.signal, onAbort });
      request.signal.addEventListener('abort', onAbort, { once: true });
    });
    this.changed.fire();
    if (request.signal.aborted) this.end(pending.id, { approved: false, by: ANSWERED_BY, reason: 'the call was cancelled' }, 'cancelled');
    return { pending, answer };
  }

  /** A user's answer. False when the approval had already ended (answered, timed out, cancelled). */
  settle(id: string, answer: ApprovalAnswer): boolean {
    return this.end(id, answer, 'answered');
  }

  approve(id: string): boolean {
    return this.settle(id, { approved: true, by: ANSWERED_BY });
  }

  deny(id: string): boolean {
    return this.settle(id, { approved: false, by: ANSWERED_BY, reason: 'denied in VS Code' });
  }

  get(id: string): PendingApproval | undefined {
    return this.entries.get(id)?.pending;
  }

  /** Soonest deadline first: the one to answer first is on top. */
  list(): PendingApproval[] {
    return [...this.entries.values()].map((e) => e.pending).sort((a, b) => a.deadline - b.deadline || a.askedAt - b.askedAt);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Whole seconds left, never below 0; rounded up so "1 s left" lasts until the deadline. */
  secondsLeft(pending: PendingApproval): number {
    return Math.max(0, Math.ceil((pending.deadline - this.now()) / 1000));
  }

  private end(id: string, answer: ApprovalAnswer, how: Settlement): boolean {
    const entry = this.entries.get(id);
    if (!entry) return false;
    this.entries.delete(id);
    clearTimeout(entry.timer);
    entry.signal.removeEventListener('abort', entry.onAbort);
    entry.resolve(answer);
    this.settledEmitter.fire({ pending: entry.pending, answer, how });
    this.changed.fire();
    return true;
  }

  /** Rejects whatever is still pending (the window is closing): nothing is left waiting. */
  dispose(): void {
    for (const id of [...this.entries.keys()]) this.end(id, { approved: false, by: ANSWERED_BY, reason: 'VS Code closed the window' }, 'cancelled');
    this.changed.clear();
    this.settledEmitter.clear();
  }
}
