/**
 * Where decisions are recorded. With a file: JSON Lines, appended with a synchronous write so a
 * forwarded call's line is in the kernel before the call leaves (a SIGKILL cannot lose it).
 * Lines are all-or-nothing: a write that cannot be completed is cut back off the file, so the
 * log never holds half a line. A SIGKILL loses nothing written; a power cut loses what the file
 * system had not yet committed, unless `sync` makes every decision line wait for the disk
 * (fdatasync: 0.2-0.3 ms per call measured on an ext4 virtual disk, against ~1 µs for the write).
 *
 * A forwarded call's upstream outcome is a second line with the same `id`, written when the
 * upstream answers: {"id","time","server","tool","decision","upstream":{ok,ms,error?}}. So the
 * log has exactly one line per decision without `upstream`, and one more per forwarded call.
 * Without a file, each decision is one short line on stderr, control characters escaped.
 * A tool whose live definition differs from its catalog pin is one line when first seen:
 * {"event":"drift","time","server","tool","kind","changes","pinned"?,"live"?,"reason","enforced"}
 * (no `decision`: it is not a call; enforced says whether pinning hides and denies the tool).
 *
 * Contract for callers: `decision()` throws AuditWriteError when its line is not in the log, and
 * the call must then be refused. `outcome()` never throws: it returns false and reports the
 * failure through `onProblem`, so the client still gets its answer.
 */
import { closeSync, fdatasyncSync, fstatSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { isoTime, type DecisionEvent, type ToolDrift } from '../core';
import type { UpstreamOutcome } from './host';

export interface AuditSink {
  /** Throws (AuditWriteError) when the line could not be written whole: refuse the call. */
  decision(event: DecisionEvent): void;
  /** Never throws; false when the line was not written (already reported through onProblem). */
  outcome(event: DecisionEvent, outcome: UpstreamOutcome): boolean;
  /** Never throws, like outcome(): a drift line that cannot be written is reported, not fatal. */
  drift?(drift: ToolDrift & { enforced: boolean }): void;
  close(): void;
}

/** Told about outcome lines that could not be written; the default writes to stderr. */
export type AuditProblemHandler = (message: string) => void;

export class AuditWriteError extends Error {
  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    super(`cannot write the audit log ${path}: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'AuditWriteError';
  }
}

export interface FileAuditOptions {
  onProblem?: AuditProblemHandler;
  /** fdatasync each decision line before the call goes on (outcome lines are not waited for). */
  sync?: boolean;
}

export class FileAuditSink implements AuditSink {
  private fd: number | undefined;
  private readonly onProblem: AuditProblemHandler;
  private readonly sync: boolean;

  constructor(
    readonly path: string,
    options: FileAuditOptions = {},
  ) {
    this.fd = openSync(path, 'a', 0o600);
    this.sync = options.sync === true;
    this.onProblem = options.onProblem ?? ((message) => writeStderr(`mcp-policy: ${escapeControl(message)}\n`));
  }

  decision(event: DecisionEvent): void {
    this.write(event, this.sync);
  }

  outcome(event: DecisionEvent, outcome: UpstreamOutcome): boolean {
    const upstream: DecisionEvent['upstream'] = { ok: outcome.ok, ms: outcome.ms };
    if (outcome.error !== undefined) upstream.error = outcome.error;
    try {
      this.write({ id: event.id, time: isoTime(), server: event.server, tool: event.tool, decision: event.decision, upstream }, false);
      return true;
    } catch (error) {
      try {
        this.onProblem(`the outcome of ${event.server}/${event.tool} (decision ${event.id}) is not in the audit log: ${(error as Error).message}`);
      } catch {
        // a failing reporter must not cost the client its answer either
      }
      return false;
    }
  }

  /** Bytes in the file now; undefined when that cannot be told (closed, or fstat failed). */
  size(): number | undefined {
    if (this.fd === undefined) return undefined;
    try {
      return fstatSync(this.fd).size;
    } catch {
      return undefined;
    }
  }

  drift(drift: ToolDrift & { enforced: boolean }): void {
    const { server, tool, kind, changes, pinned, live, reason, enforced } = drift;
    try {
      this.write({ event: 'drift', time: isoTime(), server, tool, kind, changes, ...(pinned ? { pinned } : {}), ...(live ? { live } : {}), reason, enforced }, false);
    } catch (error) {
      try {
        this.onProblem(`the drift of ${server}/${tool} is not in the audit log: ${(error as Error).message}`);
      } catch {
        // reporting is best effort
      }
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /**
   * Appends one whole line, or nothing: a short write is continued, a failed one cut back off.
   * The file's size is asked for only when part of a line has to be cut back (the line's start is
   * then its end less what was written): an fstat before every line was a quarter of its syscalls' time.
   */
  private write(value: unknown, sync: boolean): void {
    const fd = this.fd;
    if (fd === undefined) throw new AuditWriteError(this.path, new Error('the audit log is closed'));
    const line = Buffer.from(`${JSON.stringify(value)}\n`);
    let written = 0;
    try {
      while (written < line.length) {
        const count = writeSync(fd, line, written, line.length - written);
        // A regular file that takes nothing without an error is full in all but name.
        if (count <= 0) throw new Error('the file system took none of the line');
        written += count;
      }
      if (sync) fdatasyncSync(fd);
    } catch (error) {
      if (written > 0) {
        try {
          ftruncateSync(fd, fstatSync(fd).size - written);
        } catch (truncateError) {
          throw new AuditWriteError(this.path, new Error(`${(error as Error).message}; and the half line could not be removed: ${(truncateError as Error).message}`));
        }
      }
      throw new AuditWriteError(this.path, error);
    }
  }
}

export class StderrAuditSink implements AuditSink {
  decision(event: DecisionEvent): void {
    const [decision, server, tool, rule, reason] = [event.decision, event.server, event.tool, event.rule, event.reason].map(escapeControl);
    writeStderr(`mcp-policy: ${decision} ${server}/${tool} (${rule}): ${reason}\n`);
  }

  outcome(event: DecisionEvent, outcome: UpstreamOutcome): boolean {
    if (!outcome.ok) {
      const [server, tool, error] = [event.server, event.tool, outcome.error ?? 'error result'].map(escapeControl);
      writeStderr(`mcp-policy: upstream failed ${server}/${tool} after ${outcome.ms} ms: ${error}\n`);
    }
    return true;
  }

  close(): void {}
}

/**
 * Text from clients and servers made safe for one terminal line: C0/C1 controls (newlines, ANSI
 * escapes), line and paragraph separators and bidirectional overrides become \uXXXX, and a
 * backslash is doubled so an escape in the output always means an escaped character.
 */
export function escapeControl(text: string): string {
  return text.replace(/[\\\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (char) =>
    char === '\\' ? '\\\\' : `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function writeStderr(text: string): void {
  try {
    process.stderr.write(text);
  } catch {
    // stderr is best effort; the file sink is the record
  }
}
