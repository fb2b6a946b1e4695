/**
 * The HTTP listener in front of the guarded servers: loopback by default, loopback Host names,
 * bearer token, localhost-only Origin, capped bodies; then one MCP session (and one upstream)
 * per initialize the SDK accepts.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpDownstream, type BodyRefusal } from './httpDownstream';
import { inexactNumber, inexactProblem, type InexactNumber } from './inexactNumbers';
import { INTERNAL_ERROR, INVALID_PARAMS, INVALID_REQUEST } from './jsonRpc';
import { PARSE_ERROR, requestIdOf, sendJsonRpcError, SESSION_NOT_FOUND, TRANSPORT_ERROR, type ErrorId } from './httpErrors';
import { SessionTable, type LiveSession } from './httpSessions';
import { allowedHostNames, urlHostname } from './hostNames';
import type { SessionIdentity } from './sessionRelay';

export const MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface HttpFrontOptions {
  host: string;
  port: number;
  token: string;
  /** The guarded server a path names, or undefined (404). */
  route: (pathname: string) => string | undefined;
  /** Starts the relay of a new session; its transport is already bound to the session id. */
  openSession: (identity: SessionIdentity, downstream: HttpDownstream) => Promise<{ close: () => Promise<void> }>;
  /** A session with no request and no open stream for this long is closed (default 5 minutes). */
  sessionIdleMs?: number;
  /** Sessions open at once (default 64): each runs an upstream, so a runaway client must not start hundreds. */
  maxSessions?: number;
  /** Named credentials (`mcp-policy token create`): the grant of an Authorization header, or undefined. */
  resolveGrant?: (authorization: string | undefined) => string | undefined;
}

export const DEFAULT_SESSION_IDLE_MS = 5 * 60 * 1000;
export const DEFAULT_MAX_SESSIONS = 64;

export function randomToken(): string {
  return randomBytes(24).toString('base64url');
}

const LOCAL_ORIGIN_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

export function isLocalOrigin(origin: string): boolean {
  try {
    return LOCAL_ORIGIN_HOSTS.has(new URL(origin).hostname);
  } catch {
    return false;
  }
}

export class HttpFront {
  private server: Server | undefined;
  private readonly sessions: SessionTable;
  private readonly idleMs: number;
  private readonly maxSessions: number;
  private readonly hostNames: Set<string>;
  private reaper: NodeJS.Timeout | undefined;
  private readonly expectedAuth: Buffer;
  /** The grant of every client holding this token; the token itself never reaches an event. */
  private readonly grant: string;

  constructor(private readonly options: HttpFrontOptions) {
    this.expectedAuth = Buffer.from(`Bearer ${options.token}`);
    this.grant = `token:${createHash('sha256').update(options.token).digest('hex').slice(0, 12)}`;
    this.idleMs = options.sessionIdleMs ?? DEFAULT_SESSION_IDLE_MS;
    this.maxSessions = options.maxSessions ?? DEFAULT_MAX_SESSIONS;
    this.sessions = new SessionTable({ maxSessions: this.maxSessions, idleMs: this.idleMs });
    this.hostNames = allowedHostNames(options.host);
  }

  async listen(): Promise<number> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: Error) => {
        if (!res.headersSent) sendJsonRpcError(res, 500, INTERNAL_ERROR, `mcp-policy: ${error.message}`);
        else res.end();
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.startReaper();
    return (server.address() as AddressInfo).port;
  }

  /** Clients that vanish without a DELETE would otherwise keep their upstream running forever. */
  private startReaper(): void {
    this.reaper = setInterval(() => this.sessions.closeIdle(), Math.min(60_000, Math.max(50, this.idleMs / 4)));
    this.reaper.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.reaper);
    await this.sessions.closeAll();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  get openSessionIds(): string[] {
    return this.sessions.ids();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const host = req.headers.host;
    const hostName = host === undefined ? undefined : urlHostname(host);
    // A page that rebinds its own name to this address still sends that name.
    if (hostName === undefined || !this.hostNames.has(hostName)) return sendJsonRpcError(res, 403, TRANSPORT_ERROR, `mcp-policy: Host ${JSON.stringify(host ?? '')} not allowed`);
    const origin = req.headers.origin;
    // A web page in a browser can reach 127.0.0.1; only local origins may talk to the proxy.
    if (origin !== undefined && !isLocalOrigin(origin)) return sendJsonRpcError(res, 403, TRANSPORT_ERROR, 'mcp-policy: Origin not allowed');
    const grant = this.authorized(req.headers.authorization) ? this.grant : this.options.resolveGrant?.(req.headers.authorization);
    if (grant === undefined) {
      return sendJsonRpcError(res, 401, TRANSPORT_ERROR, 'mcp-policy: missing or wrong bearer token', null, { 'www-authenticate': 'Bearer' });
    }
    let body: unknown;
    let parsed = true;
    let inexact: InexactNumber | undefined;
    if (req.method === 'POST') {
      const tooLarge = `mcp-policy: request body over ${MAX_BODY_BYTES} bytes`;
      const declared = Number(req.headers['content-length'] ?? '0');
      if (declared > MAX_BODY_BYTES) return sendJsonRpcError(res, 413, TRANSPORT_ERROR, tooLarge);
      const text = await readBody(req);
      if (text === undefined) return sendJsonRpcError(res, 413, TRANSPORT_ERROR, tooLarge);
      try {
        body = JSON.parse(text);
        inexact = inexactNumber(text);
      } catch {
        parsed = false;
      }
    }
    // The body is read first so that even a wrong path is answered with the request's id.
    // An id that is itself a number the proxy cannot carry cannot be given back as sent: null.
    const id = inexact?.path === 'id' ? null : requestIdOf(body);
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    const server = this.options.route(pathname);
    if (server === undefined) return sendJsonRpcError(res, 404, TRANSPORT_ERROR, `mcp-policy: no guarded server at ${pathname}`, id);
    if (!parsed) return sendJsonRpcError(res, 400, PARSE_ERROR, 'Parse error: the body is not JSON');
    const refusal = inexact === undefined ? undefined : { code: inexact.path.startsWith('params') ? INVALID_PARAMS : INVALID_REQUEST, problem: `the request body: ${inexactProblem(inexact)}`, id };
    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string') return this.toSession(sessionId, server, grant, req, res, body, id, refusal);
    if (refusal) return sendJsonRpcError(res, 400, refusal.code, `mcp-policy: ${refusal.problem}`, id);
    if (req.method !== 'POST' || !isInitialize(body)) {
      // Every call must be decided within a session (its counters, its approvals): no sessionless mode.
      return sendJsonRpcError(res, 400, TRANSPORT_ERROR, 'Bad Request: Mcp-Session-Id header is required; mcp-policy needs an initialize request first', id);
    }
    return this.openNew(server, grant, req, res, body, id);
  }

  private async toSession(sessionId: string, server: string, grant: string, req: IncomingMessage, res: ServerResponse, body: unknown, id: ErrorId, refusal?: BodyRefusal): Promise<void> {
    const session = this.sessions.get(sessionId);
    if (!session || session.identity.server !== server || session.identity.grant !== grant) return sendJsonRpcError(res, 404, SESSION_NOT_FOUND, 'Session not found', id);
    this.sessions.use(sessionId, session, res);
    if (refusal) return session.downstream.refuseBody(res, body, refusal);
    await session.downstream.handleRequest(req, res, body);
    if (req.method === 'DELETE') this.sessions.remove(sessionId, session);
  }

  /** The session counts only once the SDK has accepted its initialize; a refused one is closed. */
  private async openNew(server: string, grant: string, req: IncomingMessage, res: ServerResponse, body: unknown, id: ErrorId): Promise<void> {
    const admission = this.sessions.admit();
    if (!admission) return sendJsonRpcError(res, 503, TRANSPORT_ERROR, `mcp-policy: ${this.maxSessions} sessions are open and busy; close one (DELETE) first`, id);
    const sessionId = randomUUID();
    const identity: SessionIdentity = { server, grant, session: sessionId };
    let session: LiveSession | undefined;
    let committed = false;
    const downstream = new HttpDownstream(sessionId, () => {
      if (!session) return;
      committed = admission.commit(sessionId, session);
      // Every other session turned busy meanwhile: closing makes the SDK answer 404, and no upstream starts.
      if (!committed) return void downstream.close();
      downstream.onclosed(() => this.sessions.remove(sessionId, session));
      this.sessions.use(sessionId, session, res);
    });
    try {
      const relay = await this.options.openSession(identity, downstream);
      session = { identity, downstream, close: relay.close, open: 0, lastSeen: Date.now() };
      try {
        await downstream.handleRequest(req, res, body);
      } finally {
        if (!committed) await relay.close();
      }
    } finally {
      admission.release();
    }
  }

  private authorized(header: string | undefined): boolean {
    if (header === undefined) return false;
    const given = Buffer.from(header);
    return given.length === this.expectedAuth.length && timingSafeEqual(given, this.expectedAuth);
  }
}

function isInitialize(body: unknown): boolean {
  const messages = Array.isArray(body) ? body : [body];
  return messages.some((message) => (message as { method?: unknown } | null)?.method === 'initialize');
}

/** The body as text, or undefined once it passes the cap (the rest is not read). */
function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners('data');
        req.resume();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
