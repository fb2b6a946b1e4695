/**
 * `mcp-policy proxy` over stdio driven with raw JSON-RPC lines, in front of the spy upstream
 * (server-everything), for tests that need to send bursts, kill the proxy, or read its stderr.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { TestContext } from 'node:test';
import { bin, cli, killGroup, spyServer, tempFolder } from './helpers';

export interface RawProxy {
  child: ChildProcess;
  send(message: unknown): void;
  /** Sends many messages in one write. */
  sendAll(messages: unknown[]): void;
  answer(id: number | string, timeoutMs?: number): Promise<Record<string, unknown>>;
  answers: Map<number | string, Record<string, unknown>>;
  stderr(): string;
  /** Resolves with the exit code (or signal) once the proxy has exited. */
  exited: Promise<number | NodeJS.Signals | null>;
  initialize(): Promise<void>;
}

export interface RawProxyOptions {
  policy: string;
  spyLog: string;
  args?: string[];
  /** The upstream after the spy; server-everything by default. */
  upstream?: string[];
}

export function startRawProxy(t: TestContext, options: RawProxyOptions): RawProxy {
  const home = tempFolder(t);
  const upstream = options.upstream ?? [bin('mcp-server-everything')];
  const child = spawn(process.execPath, [cli, 'proxy', options.policy, ...(options.args ?? []), '--', process.execPath, spyServer, ...upstream], {
    env: { ...process.env, HOME: home, SPY_LOG: options.spyLog },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  t.after(() => killGroup(child));
  child.stdin!.on('error', () => undefined);
  let text = '';
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  const answers = new Map<number | string, Record<string, unknown>>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const message = JSON.parse(line) as { id?: number | string } & Record<string, unknown>;
    if (message.id !== undefined && message.id !== null && (message.result !== undefined || message.error !== undefined)) answers.set(message.id, message);
  });
  const send = (message: unknown): void => void child.stdin!.write(`${JSON.stringify(message)}\n`);
  const sendAll = (messages: unknown[]): void => void child.stdin!.write(messages.map((message) => `${JSON.stringify(message)}\n`).join(''));
  const answer = async (id: number | string, timeoutMs = 15_000): Promise<Record<string, unknown>> => {
    const deadline = Date.now() + timeoutMs;
    while (!answers.has(id)) {
      if (Date.now() > deadline) throw new Error(`no answer to request ${id}; stderr:\n${text}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return answers.get(id)!;
  };
  const initialize = async (): Promise<void> => {
    send({ jsonrpc: '2.0', id: 'init', method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
    await answer('init');
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  };
  return { child, send, sendAll, answer, answers, stderr: () => text, exited, initialize };
}

export function toolCall(id: number | string, name: string, args: Record<string, unknown>): unknown {
  return { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } };
}

/** The messages the upstream received, parsed; an unfinished last line (the proxy killed mid-write) is left out. */
export function spyMessages(spyLog: string): Array<Record<string, unknown>> {
  if (!existsSync(spyLog)) return [];
  const lines = readFileSync(spyLog, 'utf8').split('\n');
  const messages: Array<Record<string, unknown>> = [];
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    try {
      messages.push(JSON.parse(line) as Record<string, unknown>);
    } catch (error) {
      if (index !== lines.length - 1) throw new Error(`the spy log has a corrupt line ${index + 1}: ${line.slice(0, 200)}`, { cause: error });
    }
  });
  return messages;
}

/** tools/call requests the upstream received. */
export function spyCalls(spyLog: string): Array<{ name: string; arguments: Record<string, unknown> }> {
  return spyMessages(spyLog)
    .filter((message) => message.method === 'tools/call')
    .map((message) => message.params as { name: string; arguments: Record<string, unknown> });
}

/** Every line of an audit file, each of which must be whole JSON. */
export function auditLines(path: string): Array<Record<string, unknown>> {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  if (text.length > 0 && !text.endsWith('\n')) throw new Error(`the audit log ends in half a line: ${JSON.stringify(text.slice(-200))}`);
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line, index) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch (error) {
        throw new Error(`audit line ${index + 1} is not JSON: ${line.slice(0, 200)}`, { cause: error });
      }
    });
}
