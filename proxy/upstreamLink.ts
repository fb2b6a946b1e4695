/**
 * One upstream MCP connection for one downstream session: started on demand, restarted with
 * backoff after it dies, and re-initialized with the client's own `initialize` when it is.
 */
import { existsSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { isUrlUpstream, type Upstream } from '../core';
import { isResponse, objectOrUndefined, OWN_ID_PREFIX, type JSONRPCMessage, type RequestId, type RpcRequest } from './jsonRpc';
import { resolveUpstreamReferences } from './upstreamReferences';
import { StdioUpstream } from './stdioUpstream';
import { HttpUpstream } from './httpUpstream';

/** What the link needs of its transport: the relay's own stdio and HTTP client sides. */
type Transport = StdioUpstream | HttpUpstream;

export interface UpstreamLinkOptions {
  server: string;
  upstream: Upstream;
  /** Where a command upstream runs when it names no cwd: the policy's folder. */
  defaultCwd: string;
  /**
   * A message from the upstream. Over HTTP, `relatedRequestId` names the request whose response
   * stream carried it (progress, logging, sampling during a call); it is absent for messages of
   * the standalone GET stream and for every message of a stdio upstream.
   */
  onmessage: (message: JSONRPCMessage, relatedRequestId?: RequestId) => void;
  /** The connection died; every request waiting on it must be answered by the caller. */
  onfailure: (reason: string) => void;
}

const MAX_BACKOFF_MS = 5000;
/** An upstream that lived this long is healthy again: its next death restarts at once. */
const HEALTHY_AFTER_MS = 10000;
const REINITIALIZE_TIMEOUT_MS = 30000;
/** A server that neither opens nor refuses its GET stream in this time is used without one. */
const STANDALONE_STREAM_TIMEOUT_MS = 10000;

function isInitialized(message: JSONRPCMessage): boolean {
  return (message as { method?: unknown }).method === 'notifications/initialized' && !('id' in message);
}

export class UpstreamLink {
  private transport: Transport | undefined;
  /**
   * Settles once the upstream session is fully up: `initialized` delivered and, over HTTP, the
   * server's GET stream open or refused. Every later send waits for it, so no request reaches
   * the server before the stream its requests to the client would ride on.
   */
  private sessionUp: Promise<void> = Promise.resolve();
  /** sessionUp has settled: a send need not wait for it. */
  private sessionSettled = true;
  /** Sends waiting in the queue below, not yet handed to the transport: later ones queue behind them. */
  private queuedSends = 0;
  private starting: Promise<void> | undefined;
  private closed = false;
  private failures = 0;
  private startedAt = 0;
  private initializeParams: Record<string, unknown> | undefined;
  private protocolVersion: string | undefined;
  private ownIds = 0;
  private reinitializing: { id: string; resolve: () => void; reject: (error: Error) => void } | undefined;

  constructor(private readonly options: UpstreamLinkOptions) {}

  get running(): boolean {
    return this.transport !== undefined && this.starting === undefined;
  }

  /** The client's initialize, replayed after a restart so the new upstream knows the client. */
  rememberInitialize(params: Record<string, unknown> | undefined): void {
    this.initializeParams = params ?? {};
  }

  /** The HTTP client transport sends the negotiated version as a header on every request. */
  setProtocolVersion(version: string): void {
    this.protocolVersion = version;
    if (this.transport instanceof HttpUpstream) this.transport.setProtocolVersion(version);
  }

  /**
   * Sends in call order. After `notifications/initialized` (the client's, or our own after a
   * restart) nothing is sent until the upstream session is fully up; a restart waits for it too.
   */
  send(message: JSONRPCMessage): Promise<void> {
    const transport = this.transport;
    // The usual case, a running session with nothing queued before this message: straight to the
    // transport, without the microtask hops of the queue below.
    if (transport && this.sessionSettled && this.queuedSends === 0 && !this.starting && !isInitialized(message)) return transport.send(message);
    const previous = this.sessionUp;
    this.queuedSends++;
    const sent = (async () => {
      let counted = true;
      const issued = (): void => {
        if (counted) this.queuedSends--;
        counted = false;
      };
      try {
        await previous;
        await this.ensureStarted();
        const running = this.transport;
        if (!running) throw new Error(`upstream "${this.options.server}" is not running`);
        const delivery = isInitialized(message) ? this.deliverInitialized(running, message) : running.send(message);
        issued();
        await delivery;
      } finally {
        issued();
      }
    })();
    if (isInitialized(message)) {
      const up = sent.catch(() => undefined);
      this.sessionUp = up;
      this.sessionSettled = false;
      void up.then(() => {
        if (this.sessionUp === up) this.sessionSettled = true;
      });
    }
    return sent;
  }

  /** Over HTTP the transport opens its GET stream only after `initialized` was accepted: wait for it. */
  private async deliverInitialized(transport: Transport, message: JSONRPCMessage): Promise<void> {
    const streamSettled = transport instanceof HttpUpstream ? transport.standaloneStreamSettled(STANDALONE_STREAM_TIMEOUT_MS) : undefined;
    await transport.send(message);
    await streamSettled;
  }

  /** Starts the upstream if it is not running; after a death, waits out the backoff first. */
  ensureStarted(): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`upstream "${this.options.server}" is closed`));
    if (this.starting) return this.starting;
    if (this.transport) return Promise.resolve();
    const restart = this.startedAt > 0;
    this.starting = this.start(restart).finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  async close(): Promise<void> {
    this.closed = true;
    const transport = this.transport;
    this.transport = undefined;
    await transport?.close().catch(() => undefined);
  }

  private async start(restart: boolean): Promise<void> {
    if (restart && this.failures > 1) {
      await new Promise((done) => setTimeout(done, Math.min(MAX_BACKOFF_MS, 250 * 2 ** (this.failures - 2))));
    }
    const transport = this.createTransport();
    transport.onmessage = (message: JSONRPCMessage, related?: RequestId) => this.receive(message, related);
    transport.onerror = () => undefined; // a failed send rejects; a death arrives as onclose
    // A process that never started also "closes": the start failure says why, not the close.
    let started = false;
    transport.onclose = () => {
      if (started) this.died(transport, `upstream "${this.options.server}" closed the connection`);
    };
    try {
      await transport.start();
      started = true;
    } catch (error) {
      this.failures++;
      const reason = `upstream "${this.options.server}" could not be started: ${this.startFailure(error)}`;
      this.options.onfailure(reason);
      throw new Error(reason);
    }
    if (this.closed) {
      await transport.close().catch(() => undefined);
      throw new Error(`upstream "${this.options.server}" is closed`);
    }
    this.transport = transport;
    this.startedAt = Date.now();
    if (this.protocolVersion && transport instanceof HttpUpstream) transport.setProtocolVersion(this.protocolVersion);
    if (restart && this.initializeParams) await this.reinitialize(transport);
  }

  private async reinitialize(transport: Transport): Promise<void> {
    const id = `${OWN_ID_PREFIX}init-${++this.ownIds}`;
    const answered = new Promise<void>((resolve, reject) => {
      this.reinitializing = { id, resolve, reject };
      setTimeout(() => reject(new Error(`upstream "${this.options.server}" did not answer initialize`)), REINITIALIZE_TIMEOUT_MS).unref();
    });
    const request: RpcRequest = { jsonrpc: '2.0', id, method: 'initialize', params: this.initializeParams };
    try {
      await transport.send(request as JSONRPCMessage);
      await answered;
      await this.deliverInitialized(transport, { jsonrpc: '2.0', method: 'notifications/initialized' } as JSONRPCMessage);
    } finally {
      this.reinitializing = undefined;
    }
  }

  private receive(message: JSONRPCMessage, related: RequestId | undefined): void {
    const waiting = this.reinitializing;
    if (waiting && isResponse(message) && message.id === waiting.id) {
      if (message.error) waiting.reject(new Error(`upstream "${this.options.server}" refused initialize: ${message.error.message}`));
      else {
        const version = objectOrUndefined(message.result)?.protocolVersion;
        if (typeof version === 'string') this.setProtocolVersion(version);
        waiting.resolve();
      }
      return;
    }
    this.options.onmessage(message, related);
  }

  private died(transport: Transport, reason: string): void {
    if (this.transport !== transport && this.transport !== undefined) return;
    this.transport = undefined;
    if (this.closed) return;
    this.failures = Date.now() - this.startedAt > HEALTHY_AFTER_MS ? 1 : this.failures + 1;
    this.reinitializing?.reject(new Error(reason));
    this.options.onfailure(reason);
  }

  /**
   * A broken response stream means the server died or the connection dropped: the requests
   * waiting on it (and, with the server gone, all others) will not be answered, so they fail
   * now rather than at their timeout, and the next request connects afresh. The SDK would
   * retry a resumable stream, but a server that broke it mid-answer is not one to wait for.
   */
  private streamBroke(transport: Transport, reason: string): void {
    if (this.transport !== transport) return;
    // Whichever stream notices first (the GET or a POST's) names the cause for all.
    void this.dropConnection(`upstream "${this.options.server}" broke off the connection: ${reason}`);
  }

  /** After an HTTP upstream fails a send, the next request starts a fresh connection. */
  async dropConnection(reason: string): Promise<void> {
    const transport = this.transport;
    if (!transport) return;
    this.died(transport, reason);
    transport.onclose = undefined;
    await transport.close().catch(() => undefined);
  }

  /** "spawn x ENOENT" means the command (or its folder) is not there: say which. */
  private startFailure(error: unknown): string {
    const message = (error as Error).message ?? String(error);
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return message;
    const upstream = resolveUpstreamReferences(this.options.upstream, `servers.${this.options.server}.upstream`);
    return commandProblem(upstream, this.options.defaultCwd) ?? message;
  }

  private createTransport(): Transport {
    const upstream = resolveUpstreamReferences(this.options.upstream, `servers.${this.options.server}.upstream`);
    if (isUrlUpstream(upstream)) {
      const transport: HttpUpstream = new HttpUpstream({ url: new URL(upstream.url), headers: upstream.headers ?? {}, onbroken: (reason) => this.streamBroke(transport, reason) });
      return transport;
    }
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
    return new StdioUpstream({
      command: upstream.command,
      args: upstream.args ?? [],
      env: { ...env, ...(upstream.env ?? {}) },
      cwd: resolve(this.options.defaultCwd, upstream.cwd ?? '.'),
    });
  }
}

/** A readable reason why a command upstream cannot start, checked before any client connects. */
export function commandProblem(upstream: Upstream, defaultCwd: string): string | undefined {
  if (isUrlUpstream(upstream)) {
    try {
      new URL(upstream.url);
      return undefined;
    } catch {
      return `"${upstream.url}" is not a URL`;
    }
  }
  const cwd = resolve(defaultCwd, upstream.cwd ?? '.');
  if (!existsSync(cwd)) return `the working folder ${cwd} does not exist`;
  const command = upstream.command;
  if (command.includes('/') || isAbsolute(command)) return existsSync(resolve(cwd, command)) ? undefined : `command not found: ${command}`;
  const found = (process.env.PATH ?? '').split(delimiter).some((folder) => folder && existsSync(join(folder, command)));
  return found ? undefined : `command not found on PATH: ${command}`;
}
