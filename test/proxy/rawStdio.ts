/**
 * A raw stdio client for `mcp-policy proxy -- CMD`: writes lines as they are (including ones no
 * SDK client would send) and reads every line the proxy writes back.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { TestContext } from 'node:test';
import { cli } from './helpers';

export type Message = Record<string, unknown> & { id?: unknown; error?: { code: number; message: string }; result?: Record<string, unknown> };

export interface RawProxy {
  child: ChildProcess;
  received: Message[];
  stderr: () => string;
  send(message: unknown): void;
  /** Writes text as it is: no newline is added. */
  write(text: string | Buffer): void;
  answer(id: unknown, timeoutMs?: number): Promise<Message>;
  waitFor(match: (message: Message) => boolean, what: string, timeoutMs?: number): Promise<Message>;
  /** Resolves with the exit code (or signal) once the proxy has exited; rejects after the timeout. */
  exited(timeoutMs?: number): Promise<number | NodeJS.Signals>;
  initialize(): Promise<void>;
}

export interface RawOptions {
  args: string[];
  env?: Record<string, string>;
  /** 'pipe' reads stderr into stderr(); the test may close it. */
  stderr?: 'pipe' | 'ignore';
}

export function startRawProxy(t: TestContext, options: RawOptions): RawProxy {
  const child = spawn(process.execPath, [cli, ...options.args], {
    env: { ...process.env, ...(options.env ?? {}) },
    stdio: ['pipe', 'pipe', options.stderr ?? 'pipe'],
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  // A proxy that has exited (as some tests want) makes later writes fail with EPIPE here.
  child.stdin!.on('error', () => undefined);
  const received: Message[] = [];
  let errText = '';
  child.stderr?.on('data', (chunk: Buffer) => (errText += chunk.toString()));
  createInterface({ input: child.stdout! }).on('line', (line) => received.push(JSON.parse(line) as Message));
  const exit = new Promise<number | NodeJS.Signals>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const waitFor = async (match: (message: Message) => boolean, what: string, timeoutMs = 15_000): Promise<Message> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = received.find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no ${what}; got ${JSON.stringify(received).slice(0, 2000)}\nstderr: ${errText}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const send = (message: unknown): void => void child.stdin!.write(`${JSON.stringify(message)}\n`);
  return {
    child,
    received,
    stderr: () => errText,
    send,
    write: (text) => void child.stdin!.write(text),
    answer: (id, timeoutMs) => waitFor((message) => message.id === id && ('result' in message || 'error' in message), `answer to ${String(id)}`, timeoutMs),
    waitFor,
    exited: (timeoutMs = 15_000) =>
      Promise.race([exit, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`the proxy did not exit within ${timeoutMs} ms\nstderr: ${errText}`)), timeoutMs).unref())]),
    async initialize() {
      send({ jsonrpc: '2.0', id: 'init', method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
      await waitFor((message) => message.id === 'init', 'initialize answer');
      send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    },
  };
}

/** Every process below `pid` (Linux /proc), so a test can check none outlives the proxy. */
export function descendants(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone while listing
    }
  }
  const found: number[] = [];
  const walk = (parent: number): void => {
    for (const child of parents.get(parent) ?? []) {
      found.push(child);
      walk(child);
    }
  };
  walk(pid);
  return found;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie still answers kill 0; it has exited all the same.
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

export function callRequest(id: number | string, message: string): unknown {
  return { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { message } } };
}
