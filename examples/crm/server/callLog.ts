/**
 * Every call the demo server receives, one JSON line each, in the file named by
 * DEMO_CRM_LOG: the proof of what reached the upstream (and, by absence, what a policy
 * stopped). Written synchronously before the answer goes out, so a reader that has the
 * answer also has the line.
 */
import { appendFileSync } from 'node:fs';
import type { Mail } from './store';

export interface CallRecord {
  time: string;
  /** The demo server's process id: a proxy starts one upstream per session. */
  pid: number;
  tool: string;
  arguments: unknown;
  /** The REST request the real FluentCRM server would have made. */
  request?: string;
  /** That request with its `..` segments resolved, when different: where it really lands. */
  resolvesTo?: string;
  ok: boolean;
  error?: string;
  /** Mail this call put in the outbox. */
  sent?: Mail[];
}

export class CallLog {
  constructor(private readonly file: string | undefined) {}

  record(entry: Omit<CallRecord, 'time' | 'pid'>): void {
    if (!this.file) return;
    const line: CallRecord = { time: new Date().toISOString(), pid: process.pid, ...entry };
    appendFileSync(this.file, `${JSON.stringify(line)}\n`);
  }
}
