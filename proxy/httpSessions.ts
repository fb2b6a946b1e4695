/**
 * The HTTP listener's open sessions, least recently used first. Each one runs an upstream, so
 * their number is capped; a session counts only once the SDK has accepted its initialize, and
 * when the cap is reached the least recently used idle session makes room for the new one.
 */
import type { ServerResponse } from 'node:http';
import type { HttpDownstream } from './httpDownstream';
import type { SessionIdentity } from './sessionRelay';

export interface LiveSession {
  identity: SessionIdentity;
  downstream: HttpDownstream;
  close: () => Promise<void>;
  /** Responses (including event streams) still open to the client: while any is, the session is busy. */
  open: number;
  lastSeen: number;
}

export interface SessionLimits {
  maxSessions: number;
  idleMs: number;
}

/** A place held for a session whose initialize the SDK is still checking. */
export interface Admission {
  /** The SDK accepted the initialize: the session is open from now on. False when no room was left after all. */
  commit(id: string, session: LiveSession): boolean;
  /** The initialize was refused (or never committed): give the place back. Safe after commit. */
  release(): void;
}

export class SessionTable {
  /** Map order is use order: a session is moved to the end whenever a request reaches it. */
  private readonly sessions = new Map<string, LiveSession>();
  private admitting = 0;
  /** After closeAll nothing is admitted: a late initialize must not leave an upstream running. */
  private closed = false;

  constructor(private readonly limits: SessionLimits) {}

  get size(): number {
    return this.sessions.size;
  }

  ids(): string[] {
    return [...this.sessions.keys()];
  }

  get(id: string): LiveSession | undefined {
    return this.sessions.get(id);
  }

  /** A request reached the session: it is busy until `res` closes, and the most recently used. */
  use(id: string, session: LiveSession, res: ServerResponse): void {
    if (this.sessions.get(id) === session) {
      this.sessions.delete(id);
      this.sessions.set(id, session);
    }
    session.open++;
    session.lastSeen = Date.now();
    res.once('close', () => {
      session.open--;
      session.lastSeen = Date.now();
    });
  }

  remove(id: string, session?: LiveSession): void {
    if (session === undefined || this.sessions.get(id) === session) this.sessions.delete(id);
  }

  /**
   * Holds a place for a new session, or undefined when every place is taken by a busy session.
   * Nothing is closed yet: an initialize the SDK refuses must not cost anyone their session.
   */
  admit(): Admission | undefined {
    if (this.closed || !this.hasRoom()) return undefined;
    this.admitting++;
    let held = true;
    const release = (): void => {
      if (!held) return;
      held = false;
      this.admitting--;
    };
    return {
      commit: (id, session) => {
        release();
        if (this.closed) return false;
        if (this.sessions.size >= this.limits.maxSessions && !this.closeLeastRecentlyUsedIdle()) return false;
        this.sessions.set(id, session);
        return true;
      },
      release,
    };
  }

  /** Sessions no request has reached for the idle time, with nothing open, are closed. */
  closeIdle(now = Date.now()): void {
    for (const [id, session] of this.sessions) {
      if (session.open > 0 || now - session.lastSeen < this.limits.idleMs) continue;
      this.closeSession(id, session);
    }
  }

  /** Empties the table; resolves once every session is closed. */
  async closeAll(): Promise<void> {
    this.closed = true;
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(sessions.map((session) => session.close().catch(() => undefined)));
  }

  /** Room for one more session, counting those being admitted and the idle ones that could make way. */
  private hasRoom(): boolean {
    const wanted = this.sessions.size + this.admitting + 1;
    if (wanted <= this.limits.maxSessions) return true;
    let idle = 0;
    for (const session of this.sessions.values()) if (session.open === 0) idle++;
    return wanted - this.limits.maxSessions <= idle;
  }

  private closeLeastRecentlyUsedIdle(): boolean {
    for (const [id, session] of this.sessions) {
      if (session.open > 0) continue;
      this.closeSession(id, session);
      return true;
    }
    return false;
  }

  private closeSession(id: string, session: LiveSession): void {
    this.sessions.delete(id);
    void session.close().catch(() => undefined);
  }
}
