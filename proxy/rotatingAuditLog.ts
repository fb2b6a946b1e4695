/**
 * An audit log that rotates by size: when `path` has reached `maxBytes`, it becomes `path.1`
 * (`path.1` becomes `path.2`, … up to `keep`; the oldest is dropped) and a new `path` is opened.
 * Every line is still written by FileAuditSink, so the durability contract is the same: a
 * decision line is in the log before the call goes on, or the call is refused.
 *
 * Rotation only renames whole files (atomic on one file system) and happens between lines, so
 * no line is ever split across files or lost by a crash mid-rotation. A rotation that cannot be
 * done (a rename refused) is reported and writing goes on in the current file, which grows past
 * `maxBytes` rather than lose a decision; only a log that cannot be written refuses calls.
 * A forwarded call's outcome line may land in the next file after its decision line.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import type { DecisionEvent, ToolDrift } from '../core';
import { escapeControl, FileAuditSink, type AuditProblemHandler, type AuditSink, type FileAuditOptions } from './auditLog';
import type { UpstreamOutcome } from './host';

export interface AuditRotation {
  /** Rotate before a line once the file holds at least this many bytes. */
  maxBytes: number;
  /** How many rotated files (path.1 … path.N) are kept; at least 1. */
  keep: number;
}

/** The n-th rotated file of an audit log (n ≥ 1; 1 is the newest). */
export function rotatedAuditPath(path: string, n: number): string {
  return `${path}.${n}`;
}

export interface RotatingAuditOptions extends FileAuditOptions {
  /** Told when a rotation could not be done (the log keeps growing); default stderr. */
  onRotationProblem?: AuditProblemHandler;
}

export class RotatingFileAuditSink implements AuditSink {
  private current: FileAuditSink;
  private readonly onProblem: AuditProblemHandler;
  /** After a failed rotation, wait this many more bytes before trying again (not on every line). */
  private retryAt = 0;

  constructor(
    readonly path: string,
    private readonly rotation: AuditRotation,
    private readonly options: RotatingAuditOptions = {},
  ) {
    if (!(rotation.maxBytes >= 1) || !Number.isInteger(rotation.keep) || rotation.keep < 1) {
      throw new Error(`audit rotation needs maxBytes ≥ 1 and keep ≥ 1 (got ${rotation.maxBytes}, ${rotation.keep})`);
    }
    this.onProblem = options.onRotationProblem ?? ((message) => void process.stderr.write(`mcp-policy: ${escapeControl(message)}\n`));
    this.current = new FileAuditSink(path, options);
  }

  decision(event: DecisionEvent): void {
    this.rotateIfFull();
    this.current.decision(event);
  }

  outcome(event: DecisionEvent, outcome: UpstreamOutcome): boolean {
    try {
      this.rotateIfFull();
    } catch {
      // rotateIfFull reports its own failures; the outcome is still written below
    }
    return this.current.outcome(event, outcome);
  }

  drift(drift: ToolDrift & { enforced: boolean }): void {
    try {
      this.rotateIfFull();
    } catch {
      // as for an outcome: the drift line is still written below
    }
    this.current.drift(drift);
  }

  close(): void {
    this.current.close();
  }

  private rotateIfFull(): void {
    const size = this.current.size();
    if (size === undefined || size < Math.max(this.rotation.maxBytes, this.retryAt)) return;
    try {
      // Oldest first, so each rename has a free name to go to.
      const oldest = rotatedAuditPath(this.path, this.rotation.keep);
      if (existsSync(oldest)) rmSync(oldest, { force: true });
      for (let n = this.rotation.keep - 1; n >= 1; n--) {
        const from = rotatedAuditPath(this.path, n);
        if (existsSync(from)) renameSync(from, rotatedAuditPath(this.path, n + 1));
      }
      renameSync(this.path, rotatedAuditPath(this.path, 1));
    } catch (error) {
      this.retryAt = size + this.rotation.maxBytes;
      this.report(`the audit log ${this.path} could not be rotated, it keeps growing: ${(error as Error).message}`);
      return;
    }
    let next: FileAuditSink;
    try {
      next = new FileAuditSink(this.path, this.options);
    } catch (error) {
      // The open descriptor still writes to the renamed file: lines go on there, none is lost.
      this.retryAt = size + this.rotation.maxBytes;
      this.report(`a new audit log ${this.path} could not be opened, lines go on in ${rotatedAuditPath(this.path, 1)}: ${(error as Error).message}`);
      return;
    }
    // The renamed file is complete: every line was written whole before this point.
    this.current.close();
    this.current = next;
    this.retryAt = 0;
  }

  private report(message: string): void {
    try {
      this.onProblem(message);
    } catch {
      // a failing reporter must not cost the call
    }
  }
}
