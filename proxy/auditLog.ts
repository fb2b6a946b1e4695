/**
 * Where decisions are recorded. With a file: JSON Lines, appended with a synchronous write so a
 * forwarded call's line is in the kernel before the call leaves (a SIGKILL cannot lose it).
 *
 * A forwarded call's upstream outcome is a second line with the same `id`, written when the
 * upstream answers: {"id","time","server","tool","decision","upstream":{ok,ms,error?}}. So the
 * log has exactly one line per decision without `upstream`, and one more per forwarded call.
 * Without a file, each decision is one short line on stderr.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { DecisionEvent } from '../core';
import type { UpstreamOutcome } from './host';

export interface AuditSink {
  decision(event: DecisionEvent): void;
  outcome(event: DecisionEvent, outcome: UpstreamOutcome): void;
  close(): void;
}

export class FileAuditSink implements AuditSink {
  private fd: number | undefined;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'a', 0o600);
  }

  decision(event: DecisionEvent): void {
    this.write(event);
  }

  outcome(event: DecisionEvent, outcome: UpstreamOutcome): void {
    const upstream: DecisionEvent['upstream'] = { ok: outcome.ok, ms: outcome.ms };
    if (outcome.error !== undefined) upstream.error = outcome.error;
    this.write({ id: event.id, time: new Date().toISOString(), server: event.server, tool: event.tool, decision: event.decision, upstream });
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private write(value: unknown): void {
    if (this.fd === undefined) return;
    writeSync(this.fd, `${JSON.stringify(value)}\n`);
  }
}

export class StderrAuditSink implements AuditSink {
  decision(event: DecisionEvent): void {
    process.stderr.write(`mcp-policy: ${event.decision} ${event.server}/${event.tool} (${event.rule}): ${event.reason}\n`);
  }

  outcome(event: DecisionEvent, outcome: UpstreamOutcome): void {
    if (!outcome.ok) process.stderr.write(`mcp-policy: upstream failed ${event.server}/${event.tool} after ${outcome.ms} ms: ${outcome.error ?? 'error result'}\n`);
  }

  close(): void {}
}
