/**
 * A command upstream: the server as a child process, MCP over its stdin and stdout.
 *
 * Replaces the SDK's StdioClientTransport on the relay's hot path: that one runs every line
 * through zod (JSONRPCMessageSchema) and copies its read buffer with Buffer.concat on every
 * chunk; the relay classifies each message itself (jsonRpc.classify), so a line here is only
 * split (./stdioFraming) and parsed. Measured with server-everything's echo, 16 calls in flight:
 * see bench/RESULTS.md. Lifecycle as the SDK's: start() resolves once spawned, onclose when
 * the process has closed its pipes, close() ends stdin, then SIGTERM, then SIGKILL.
 */
import type { ChildProcess } from 'node:child_process';
// As the SDK does: on Windows it finds `npx.cmd` and the like, elsewhere it is plain spawn.
import spawn from 'cross-spawn';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from './jsonRpc';
import { noteInexact } from './inexactNumbers';
import { LineSplitter, MAX_LINE_BYTES } from './stdioFraming';

export interface StdioUpstreamOptions {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
}

/** How long close() waits for the server to exit after stdin ends, and again after SIGTERM. */
const EXIT_GRACE_MS = 2000;

export class StdioUpstream implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private child: ChildProcess | undefined;
  private readonly splitter = new LineSplitter({
    line: (text) => this.line(text),
    // As the SDK's transport does with a line over its read limit: the connection is given up,
    // so every request waiting on it is answered now instead of at its timeout.
    oversized: (line) => this.fail(new Error(`the server sent a line of ${line.bytes} bytes, over the ${MAX_LINE_BYTES} a message may have`)),
  });

  constructor(private readonly options: StdioUpstreamOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): Promise<void> {
    if (this.child) return Promise.reject(new Error('the upstream process is already started'));
    return new Promise((resolve, reject) => {
      const child = spawn(this.options.command, this.options.args, { env: this.options.env, cwd: this.options.cwd, stdio: ['pipe', 'pipe', 'inherit'], shell: false });
      this.child = child;
      child.on('error', (error) => {
        reject(error);
        this.onerror?.(error);
      });
      child.on('spawn', () => resolve());
      child.on('close', () => {
        if (this.child === child) this.child = undefined;
        this.onclose?.();
      });
      child.stdin!.on('error', (error) => this.onerror?.(error));
      child.stdout!.on('error', (error) => this.onerror?.(error));
      child.stdout!.on('data', (chunk: Buffer) => this.splitter.push(chunk));
    });
  }

  send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.child?.stdin;
    if (!stdin || stdin.destroyed) return Promise.reject(new Error('the upstream process is not running'));
    if (stdin.write(`${JSON.stringify(message)}\n`)) return Promise.resolve();
    return new Promise((resolve) => stdin.once('drain', resolve));
  }

  async close(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const exited = (): Promise<void> => Promise.race([closed, new Promise<void>((resolve) => setTimeout(resolve, EXIT_GRACE_MS).unref())]);
    try {
      child.stdin?.end();
    } catch {
      // already gone
    }
    await exited();
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited();
    }
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }

  private line(text: string): void {
    if (text.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(text);
      noteInexact(value, text);
    } catch (error) {
      // Not a message: the SDK's transport drops it the same way.
      this.onerror?.(new Error(`the server sent a line that is not JSON (${(error as Error).message})`));
      return;
    }
    try {
      this.onmessage?.(value as JSONRPCMessage);
    } catch (error) {
      this.onerror?.(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private fail(error: Error): void {
    this.onerror?.(error);
    void this.close();
  }
}
