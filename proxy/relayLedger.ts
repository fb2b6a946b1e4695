/**
 * The relay's bookkeeping for one session: every request in flight, which side sent it, which
 * side may answer it, and the progress tokens that ride on it. No I/O happens here.
 *
 * Ownership is explicit because that is where relays get fooled. The proxy numbers what it
 * sends to each side itself (a client's request goes upstream under an id the proxy chose, a
 * server's request goes to the client under another), so:
 * - an answer is taken only from the side the request went to, and only for an id the proxy
 *   gave that side: an answer to a question that side was not asked matches nothing and is
 *   dropped (a client cannot answer the proxy's schema fetch, a server cannot answer its
 *   approval question, a late answer after the proxy gave up matches nothing);
 * - a request's method is bound to its id when it is sent, so an answer is always read as the
 *   answer to what was really asked (a tools/list answer is always filtered);
 * - a request whose id is already in flight from the same side is refused: its answer could
 *   not be told from the first one's.
 * Every entry ends: answered, answered by the proxy, the upstream died, or the session closed.
 */
import { randomBytes } from 'node:crypto';
import type { RequestId } from './jsonRpc';

/** A side's requests in flight at once; more is a runaway peer, and each one holds memory. */
export const MAX_IN_FLIGHT_PER_SIDE = 4096;

export type ProgressToken = string | number;

/** A request the client sent: being decided (tools/call) or forwarded upstream. */
export interface ClientRequest<Data> {
  readonly clientId: RequestId;
  readonly method: string;
  readonly progressToken: ProgressToken | undefined;
  /** Set once forwarded: the id the upstream knows it by. */
  upstreamId: number | undefined;
  readonly data: Data;
}

/** A request the upstream sent to the client (sampling, elicitation, roots, ping). */
export interface UpstreamRequest {
  readonly upstreamId: RequestId;
  readonly method: string;
  readonly progressToken: ProgressToken | undefined;
  readonly downstreamId: number;
}

/** A request the proxy itself sent (schema fetch upstream, approval question to the client). */
export interface OwnRequest {
  readonly id: string;
  readonly method: string;
  readonly settle: (answer: { result?: Record<string, unknown>; error?: { code?: number; message: string } }) => void;
}

export type Refusal = 'id in flight' | 'progress token in use' | 'too many requests in flight';

export type UpstreamAnswerTarget<Data> = { kind: 'client'; request: ClientRequest<Data> } | { kind: 'own'; request: OwnRequest };
export type ClientAnswerTarget = { kind: 'upstream'; request: UpstreamRequest } | { kind: 'own'; request: OwnRequest };

function idKey(id: RequestId): string {
  return typeof id === 'number' ? `n${id}` : `s${id}`;
}

function tokenKey(token: ProgressToken): string {
  return typeof token === 'number' ? `n${token}` : `s${token}`;
}

export class RelayLedger<Data> {
  /** What the client asked, by the client's id. */
  private readonly fromClient = new Map<string, ClientRequest<Data>>();
  /** What went upstream (the client's forwarded requests and the proxy's own), by the id the proxy gave it. */
  private readonly sentUpstream = new Map<string, UpstreamAnswerTarget<Data>>();
  /** What the upstream asked, by the upstream's id. */
  private readonly fromUpstream = new Map<string, UpstreamRequest>();
  /** What went to the client (the upstream's relayed requests and the proxy's own), by the id the proxy gave it. */
  private readonly sentToClient = new Map<string, ClientAnswerTarget>();
  /** Progress tokens of the client's forwarded requests: the upstream reports progress on them. */
  private readonly clientTokens = new Map<string, ClientRequest<Data>>();
  /** Progress tokens of the upstream's relayed requests: the client reports progress on them. */
  private readonly upstreamTokens = new Map<string, UpstreamRequest>();
  private nextUpstreamId = 1;
  private nextDownstreamId = 1;
  private nextOwnId = 1;
  /** Own ids are unguessable too, though ownership alone already keeps them apart. */
  private readonly ownPrefix = `mcp-policy-${randomBytes(6).toString('hex')}-`;

  // ── the client's requests ──────────────────────────────────────────

  /** Takes a request from the client, before it is decided or forwarded. */
  admitClientRequest(clientId: RequestId, method: string, progressToken: ProgressToken | undefined, data: Data): ClientRequest<Data> | Refusal {
    const key = idKey(clientId);
    if (this.fromClient.has(key)) return 'id in flight';
    if (progressToken !== undefined && this.clientTokens.has(tokenKey(progressToken))) return 'progress token in use';
    if (this.fromClient.size >= MAX_IN_FLIGHT_PER_SIDE) return 'too many requests in flight';
    const request: ClientRequest<Data> = { clientId, method, progressToken, upstreamId: undefined, data };
    this.fromClient.set(key, request);
    // Reserved at once: a second request may not take the token while the first is decided.
    if (progressToken !== undefined) this.clientTokens.set(tokenKey(progressToken), request);
    return request;
  }

  /** The id the client's request goes upstream with. */
  forwardClientRequest(request: ClientRequest<Data>): number {
    if (this.fromClient.get(idKey(request.clientId)) !== request) throw new Error('forwarding a request that is no longer in flight');
    if (request.upstreamId !== undefined) throw new Error('forwarding a request twice');
    const upstreamId = this.nextUpstreamId++;
    request.upstreamId = upstreamId;
    this.sentUpstream.set(idKey(upstreamId), { kind: 'client', request });
    return upstreamId;
  }

  /** The client's request by its own id (for its cancellation), if still in flight. */
  clientRequest(clientId: RequestId): ClientRequest<Data> | undefined {
    return this.fromClient.get(idKey(clientId));
  }

  /** The request is over (answered by the upstream or by the proxy): its id and token are free again. */
  finishClientRequest(request: ClientRequest<Data>): boolean {
    const key = idKey(request.clientId);
    if (this.fromClient.get(key) !== request) return false;
    this.fromClient.delete(key);
    if (request.upstreamId !== undefined) this.sentUpstream.delete(idKey(request.upstreamId));
    if (request.progressToken !== undefined) this.clientTokens.delete(tokenKey(request.progressToken));
    return true;
  }

  /** An answer from the upstream: what it answers, and that entry ends. Undefined = nothing the upstream was asked. */
  takeUpstreamAnswer(upstreamId: RequestId): UpstreamAnswerTarget<Data> | undefined {
    const target = this.sentUpstream.get(idKey(upstreamId));
    if (!target) return undefined;
    if (target.kind === 'client') this.finishClientRequest(target.request);
    else this.sentUpstream.delete(idKey(upstreamId));
    return target;
  }

  /** The client's forwarded request that owns a progress token the upstream reports on. */
  clientRequestWithToken(token: unknown): ClientRequest<Data> | undefined {
    if (typeof token !== 'string' && typeof token !== 'number') return undefined;
    const request = this.clientTokens.get(tokenKey(token));
    return request?.upstreamId !== undefined ? request : undefined;
  }

  // ── the upstream's requests ────────────────────────────────────────

  /** Takes a request from the upstream; the result is the id it goes to the client with. */
  admitUpstreamRequest(upstreamId: RequestId, method: string, progressToken: ProgressToken | undefined): UpstreamRequest | Refusal {
    const key = idKey(upstreamId);
    if (this.fromUpstream.has(key)) return 'id in flight';
    if (progressToken !== undefined && this.upstreamTokens.has(tokenKey(progressToken))) return 'progress token in use';
    if (this.fromUpstream.size >= MAX_IN_FLIGHT_PER_SIDE) return 'too many requests in flight';
    const request: UpstreamRequest = { upstreamId, method, progressToken, downstreamId: this.nextDownstreamId++ };
    this.fromUpstream.set(key, request);
    this.sentToClient.set(idKey(request.downstreamId), { kind: 'upstream', request });
    if (progressToken !== undefined) this.upstreamTokens.set(tokenKey(progressToken), request);
    return request;
  }

  /** The upstream's request by its own id (for its cancellation), if still in flight. */
  upstreamRequest(upstreamId: RequestId): UpstreamRequest | undefined {
    return this.fromUpstream.get(idKey(upstreamId));
  }

  finishUpstreamRequest(request: UpstreamRequest): boolean {
    const key = idKey(request.upstreamId);
    if (this.fromUpstream.get(key) !== request) return false;
    this.fromUpstream.delete(key);
    this.sentToClient.delete(idKey(request.downstreamId));
    if (request.progressToken !== undefined) this.upstreamTokens.delete(tokenKey(request.progressToken));
    return true;
  }

  /** An answer from the client: what it answers, and that entry ends. Undefined = nothing the client was asked. */
  takeClientAnswer(downstreamId: RequestId): ClientAnswerTarget | undefined {
    const target = this.sentToClient.get(idKey(downstreamId));
    if (!target) return undefined;
    if (target.kind === 'upstream') this.finishUpstreamRequest(target.request);
    else this.sentToClient.delete(idKey(downstreamId));
    return target;
  }

  /** The upstream's relayed request that owns a progress token the client reports on. */
  upstreamRequestWithToken(token: unknown): UpstreamRequest | undefined {
    if (typeof token !== 'string' && typeof token !== 'number') return undefined;
    return this.upstreamTokens.get(tokenKey(token));
  }

  // ── the proxy's own requests ───────────────────────────────────────

  /** Registers a request of the proxy's own to one side; only that side's answer settles it. */
  ownRequest(to: 'upstream' | 'client', method: string, settle: OwnRequest['settle']): OwnRequest | Refusal {
    const map = to === 'upstream' ? this.sentUpstream : this.sentToClient;
    if (map.size >= MAX_IN_FLIGHT_PER_SIDE) return 'too many requests in flight';
    const request: OwnRequest = { id: `${this.ownPrefix}${this.nextOwnId++}`, method, settle };
    map.set(idKey(request.id), { kind: 'own', request });
    return request;
  }

  /** Withdraws an own request (timeout, abort): a later answer to it matches nothing. */
  withdrawOwn(request: OwnRequest): boolean {
    for (const map of [this.sentUpstream, this.sentToClient]) {
      const target = map.get(idKey(request.id));
      if (target?.kind === 'own' && target.request === request) {
        map.delete(idKey(request.id));
        return true;
      }
    }
    return false;
  }

  // ── ends ───────────────────────────────────────────────────────────

  /**
   * The upstream connection is gone. Returns the client's forwarded requests and the proxy's
   * own upstream requests, which the caller must answer; the upstream's requests to the client
   * are forgotten (a new upstream knows nothing of them, so their answers would mislead it).
   */
  upstreamGone(): { forwarded: ClientRequest<Data>[]; own: OwnRequest[] } {
    const forwarded: ClientRequest<Data>[] = [];
    const own: OwnRequest[] = [];
    for (const target of this.sentUpstream.values()) {
      if (target.kind === 'client') forwarded.push(target.request);
      else own.push(target.request);
    }
    for (const request of forwarded) this.finishClientRequest(request);
    this.sentUpstream.clear();
    for (const request of [...this.fromUpstream.values()]) this.finishUpstreamRequest(request);
    return { forwarded, own };
  }

  /** The session is over: every own request still waiting, for the caller to reject. */
  closeAll(): OwnRequest[] {
    const own: OwnRequest[] = [];
    for (const map of [this.sentUpstream, this.sentToClient]) for (const target of map.values()) if (target.kind === 'own') own.push(target.request);
    this.fromClient.clear();
    this.sentUpstream.clear();
    this.fromUpstream.clear();
    this.sentToClient.clear();
    this.clientTokens.clear();
    this.upstreamTokens.clear();
    return own;
  }

  /** Every request still waiting on the client side, e.g. for timers. */
  clientRequests(): IterableIterator<ClientRequest<Data>> {
    return this.fromClient.values();
  }

  /** The most recent client request that went upstream: a server request with no better home rides its stream. */
  latestForwarded(): ClientRequest<Data> | undefined {
    let latest: ClientRequest<Data> | undefined;
    for (const request of this.fromClient.values()) if (request.upstreamId !== undefined && (latest === undefined || request.upstreamId > (latest.upstreamId ?? 0))) latest = request;
    return latest;
  }

  /** The client request an upstream id belongs to (for messages related to it). */
  clientRequestByUpstreamId(upstreamId: RequestId): ClientRequest<Data> | undefined {
    const target = this.sentUpstream.get(idKey(upstreamId));
    return target?.kind === 'client' ? target.request : undefined;
  }

  /** How much is held, for leak tests. */
  get sizes(): { fromClient: number; sentUpstream: number; fromUpstream: number; sentToClient: number; clientTokens: number; upstreamTokens: number } {
    return {
      fromClient: this.fromClient.size,
      sentUpstream: this.sentUpstream.size,
      fromUpstream: this.fromUpstream.size,
      sentToClient: this.sentToClient.size,
      clientTokens: this.clientTokens.size,
      upstreamTokens: this.upstreamTokens.size,
    };
  }
}
