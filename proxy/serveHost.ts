/**
 * The HTTP proxy as an embeddable object: `serve` (every `servers.*.upstream` at
 * /servers/S/mcp), `proxy --port` (one upstream at /mcp) and the VS Code extension use it.
 */
import { EventEmitter } from 'node:events';
import { isUrlUpstream, type Upstream } from '../core';
import { FileAuditSink, type AuditSink } from './auditLog';
import { RotatingFileAuditSink } from './rotatingAuditLog';
import type { GuardedServer, ProxyHost, ProxyHostEvents, ProxyHostOptions, ProxyHostStatus } from './host';
import { HttpFront, randomToken } from './httpFront';
import { PolicyGuard } from './policyGuard';
import { SessionRelay } from './sessionRelay';
import { defaultTokenFile, removeTokenFile, writeTokenFile } from './tokenFile';
import { TokenStore } from './tokens';
import { commandProblem } from './upstreamLink';

export interface HttpProxyOptions extends ProxyHostOptions {
  /** Overrides the audit file (the CLI's stderr lines). */
  audit?: AuditSink;
  /** `proxy --port`: one upstream at /mcp instead of the policy's servers. */
  single?: { server: string; upstream: Upstream };
  callTimeoutMs?: number;
  /** See HttpFrontOptions. */
  sessionIdleMs?: number;
  maxSessions?: number;
  /** Named credentials accepted besides the bearer token; default the user's (~/.mcp-policy/tokens.json); false = none. */
  tokens?: TokenStore | false;
}

const SERVER_PATH = /^\/servers\/([^/]+)\/mcp\/?$/;

export class HttpProxyHost extends EventEmitter<ProxyHostEvents> implements ProxyHost {
  private guard: PolicyGuard | undefined;
  private front: HttpFront | undefined;
  private current: ProxyHostStatus | undefined;

  constructor(private readonly options: HttpProxyOptions) {
    super();
  }

  get status(): ProxyHostStatus | undefined {
    return this.current;
  }

  async start(): Promise<ProxyHostStatus> {
    if (this.current) return this.current;
    const audit = this.options.audit ?? this.fileAudit();
    const guard = new PolicyGuard({
      policyPath: this.options.policyPath,
      catalogFiles: this.options.catalogFiles ?? [],
      ...(audit ? { audit } : {}),
      ...(this.options.approver ? { approver: this.options.approver } : {}),
    });
    let front: HttpFront | undefined;
    try {
      const problems = this.upstreamProblems(guard);
      // One server that cannot start must not keep the others from serving (a reload treats it
      // the same way); with nothing that can start there is nothing to guard.
      const startable = this.options.single ? 1 - problems.length : this.serverNames(guard).length - problems.length;
      if (problems.length > 0 && startable <= 0) throw new Error(problems.map((problem) => problem.message).join('\n'));
      guard.on('decision', (event) => this.emit('decision', event));
      guard.on('upstream', (outcome) => this.emit('upstream', outcome));
      guard.on('policy', (reload) => {
        // Servers added or removed by a reload are listed before anyone hears of the reload.
        if (reload.ok && this.current) this.current = { ...this.current, servers: this.servers(guard, this.current.host, this.current.port) };
        this.emit('policy', reload);
        // An upstream the reload names that cannot start is said now, not at its first call;
        // the other servers go on serving.
        if (reload.ok) for (const problem of this.upstreamProblems(guard)) this.emit('problem', problem);
      });
      guard.on('problem', (problem) => this.emit('problem', problem));
      guard.on('counters', (health) => this.emit('counters', health));
      guard.on('drift', (drift) => this.emit('drift', drift));
      const token = this.options.token ?? randomToken();
      const named = this.options.tokens === false ? undefined : (this.options.tokens ?? new TokenStore());
      const host = this.options.host ?? '127.0.0.1';
      front = new HttpFront({
        host,
        port: this.options.port ?? 0,
        token,
        ...(this.options.sessionIdleMs !== undefined ? { sessionIdleMs: this.options.sessionIdleMs } : {}),
        ...(this.options.maxSessions !== undefined ? { maxSessions: this.options.maxSessions } : {}),
        route: (pathname) => this.route(guard, pathname),
        ...(named ? { resolveGrant: (authorization: string | undefined) => named.grantFor(authorization) } : {}),
        openSession: async (identity, downstream) => {
          const upstream = this.upstreamFor(guard, identity.server);
          if (!upstream) throw new Error(`no upstream for ${identity.server}`);
          const relay = new SessionRelay({ guard, identity, downstream, exactNumbers: downstream.exactNumbers, upstream, ...(this.options.callTimeoutMs ? { callTimeoutMs: this.options.callTimeoutMs } : {}) });
          downstream.onrefused = (message, reason) => relay.refusedByTransport(message, reason);
          await relay.start();
          return { close: () => relay.close() };
        },
      });
      const port = await front.listen();
      const tokenFile = this.options.tokenFile === false ? undefined : (this.options.tokenFile ?? defaultTokenFile(this.options.single ? 'proxy' : 'serve', port));
      if (tokenFile) writeTokenFile(tokenFile, token);
      guard.watch();
      this.guard = guard;
      this.front = front;
      const serverProblems = problems.flatMap((problem) => (problem.server ? [{ server: problem.server, message: problem.message }] : []));
      this.current = { port, host, token, tokenFile, servers: this.servers(guard, host, port), problems: serverProblems };
      return this.current;
    } catch (error) {
      // A listener left open would keep the process alive with nothing to guard.
      await front?.close().catch(() => undefined);
      guard.close();
      throw error;
    }
  }

  async stop(): Promise<void> {
    const front = this.front;
    const guard = this.guard;
    const status = this.current;
    this.front = undefined;
    this.guard = undefined;
    this.current = undefined;
    // First, so that a shutdown cut short (a second signal) leaves no token behind.
    removeTokenFile(status?.tokenFile, status?.token);
    await front?.close();
    guard?.close();
  }

  /** The audit file of the options, rotated when they say so; a failed rotation is a problem of the host. */
  private fileAudit(): AuditSink | undefined {
    const { auditFile, auditRotation } = this.options;
    if (!auditFile) return undefined;
    if (!auditRotation) return new FileAuditSink(auditFile);
    return new RotatingFileAuditSink(auditFile, auditRotation, { onRotationProblem: (message) => this.emit('problem', { message }) });
  }

  /** The listed servers follow hot reloads; new sessions see the current list. */
  private servers(guard: PolicyGuard, host: string, port: number): GuardedServer[] {
    const base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    if (this.options.single) return [{ name: this.options.single.server, url: `${base}/mcp` }];
    return this.serverNames(guard).map((name) => ({ name, url: `${base}/servers/${encodeURIComponent(name)}/mcp` }));
  }

  private serverNames(guard: PolicyGuard): string[] {
    const sections = guard.policy.policy?.servers ?? {};
    return Object.keys(sections).filter((name) => sections[name]?.upstream !== undefined);
  }

  private route(guard: PolicyGuard, pathname: string): string | undefined {
    if (this.options.single) return pathname === '/mcp' || pathname === '/mcp/' ? this.options.single.server : undefined;
    const match = SERVER_PATH.exec(pathname);
    if (!match) return undefined;
    const name = decodeURIComponent(match[1]!);
    return this.upstreamFor(guard, name) ? name : undefined;
  }

  private upstreamFor(guard: PolicyGuard, server: string): Upstream | undefined {
    if (this.options.single) return server === this.options.single.server ? this.options.single.upstream : undefined;
    return guard.policy.policy?.servers?.[server]?.upstream;
  }

  private upstreamProblems(guard: PolicyGuard): Array<{ server?: string; message: string }> {
    if (this.options.single) {
      const server = this.options.single.server;
      const problem = commandProblem(this.options.single.upstream, guard.policyFolder);
      return problem ? [{ server, message: `upstream "${server}": ${problem}` }] : [];
    }
    const names = this.serverNames(guard);
    if (names.length === 0) return [{ message: `${guard.policyPath} names no servers.*.upstream to guard` }];
    const problems: Array<{ server: string; message: string }> = [];
    for (const name of names) {
      const upstream = this.upstreamFor(guard, name);
      const problem = upstream && commandProblem(upstream, guard.policyFolder);
      if (problem) problems.push({ server: name, message: `upstream "${name}" cannot be started: ${problem}` });
    }
    return problems;
  }

  /** For the status line: "node a.js" or the URL. */
  static describe(upstream: Upstream): string {
    return isUrlUpstream(upstream) ? upstream.url : [upstream.command, ...(upstream.args ?? [])].join(' ');
  }
}

export function createProxyHost(options: ProxyHostOptions): ProxyHost {
  return new HttpProxyHost(options);
}
