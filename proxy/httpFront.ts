/**
 * The HTTP listener in front of the guarded servers: loopback by default, bearer token,
 * localhost-only Origin, capped bodies; then one MCP session (and one upstream) per initialize.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpDownstream } from './httpDownstream';
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
  /** A session with no request and no open stream for this long is closed (default 30 minutes). */
  sessionIdleMs?: number;
  /** Sessions open at once (default 64): each runs an upstream, so a runaway client must not start hundreds. */
  maxSessions?: number;
  /** Named credentials (`mcp-policy token create`): the grant of an Authorization header, or undefined. */
  resolveGrant?: (authorization: string | undefined) => string | undefined;
}

interface LiveSession {
  identity: SessionIdentity;
  downstream: HttpDownstream;
  close: () => Promise<void>;
  /** Responses (including event streams) still open to the client. */
  open: number;
  lastSeen: number;
}

const DEFAULT_SESSION_IDLE_MS = 30 * 60 * 1000;
const DEFAULT_MAX_SESSIONS = 64;

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

/** A session is in use while any response to it is open (a pending call, the event stream). */
function track(session: LiveSession, res: ServerResponse): void {
  session.open++;
  session.lastSeen = Date.now();
  res.once('close', () => {
    session.open--;
    session.lastSeen = Date.now();
  });
}

export class HttpFront {
  private server: Server | undefined;
  private readonly sessions = new Map<string, LiveSession>();
  private reaper: NodeJS.Timeout | undefined;
  private readonly expectedAuth: Buffer;
  /** The grant of every client holding this token; the token itself never reaches an event. */
  private readonly grant: string;

  constructor(private readonly options: HttpFrontOptions) {
    this.expectedAuth = Buffer.from(`Bearer ${options.token}`);
    this.grant = `token:${createHash('sha256').update(options.token).digest('hex').slice(0, 12)}`;
  }

  async listen(): Promise<number> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: Error) => {
        if (!res.headersSent) plain(res, 500, `mcp-policy: ${error.message}`);
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
    const idleMs = this.options.sessionIdleMs ?? DEFAULT_SESSION_IDLE_MS;
    this.reaper = setInterval(() => {
      const now = Date.now();
      for (const [id, session] of this.sessions) {
        if (session.open > 0 || now - session.lastSeen < idleMs) continue;
        this.sessions.delete(id);
        void session.close().catch(() => undefined);
      }
    }, Math.min(60_000, Math.max(50, idleMs / 4)));
    this.reaper.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.reaper);
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(sessions.map((session) => session.close().catch(() => undefined)));
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const origin = req.headers.origin;
    // A web page in a browser can reach 127.0.0.1; only local origins may talk to the proxy.
    if (origin !== undefined && !isLocalOrigin(origin)) return plain(res, 403, 'mcp-policy: Origin not allowed');
    const grant = this.authorized(req.headers.authorization) ? this.grant : this.options.resolveGrant?.(req.headers.authorization);
    if (grant === undefined) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      return plain(res, 401, 'mcp-policy: missing or wrong bearer token');
    }
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    const server = this.options.route(pathname);
    if (server === undefined) return plain(res, 404, `mcp-policy: no guarded server at ${pathname}`);
    let body: unknown;
    if (req.method === 'POST') {
      const declared = Number(req.headers['content-length'] ?? '0');
      if (declared > MAX_BODY_BYTES) return plain(res, 413, `mcp-policy: request body over ${MAX_BODY_BYTES} bytes`);
      const text = await readBody(req);
      if (text === undefined) return plain(res, 413, `mcp-policy: request body over ${MAX_BODY_BYTES} bytes`);
      try {
        body = JSON.parse(text);
      } catch {
        return jsonError(res, 400, -32700, 'Parse error: the body is not JSON');
      }
    }
    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const session = this.sessions.get(sessionId);
      // A session belongs to the credential that opened it: to any other it does not exist.
      if (!session || session.identity.server !== server || session.identity.grant !== grant) return jsonError(res, 404, -32001, 'Session not found');
      track(session, res);
      await session.downstream.handleRequest(req, res, body);
      if (req.method === 'DELETE') this.sessions.delete(sessionId);
      return;
    }
    if (req.method !== 'POST' || !isInitialize(body)) return jsonError(res, 400, -32000, 'Bad Request: no Mcp-Session-Id and not an initialize request');
    const maxSessions = this.options.maxSessions ?? DEFAULT_MAX_SESSIONS;
    if (this.sessions.size >= maxSessions) return jsonError(res, 503, -32000, `mcp-policy: ${maxSessions} sessions are open already; close one (DELETE) first`);
    const id = randomUUID();
    const identity: SessionIdentity = { server, grant, session: id };
    const downstream = new HttpDownstream(id);
    const relay = await this.options.openSession(identity, downstream);
    const session: LiveSession = { identity, downstream, close: relay.close, open: 0, lastSeen: Date.now() };
    this.sessions.set(id, session);
    downstream.onclosed(() => this.sessions.delete(id));
    track(session, res);
    await downstream.handleRequest(req, res, body);
  }

  get openSessionIds(): string[] {
    return [...this.sessions.keys()];
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

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(`${text}\n`);
}

function jsonError(res: ServerResponse, status: number, code: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}
