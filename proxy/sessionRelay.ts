/**
 * One downstream MCP session relayed to its own upstream connection, message by message.
 * Only `tools/call` requests (decided by the policy) and `tools/list` results (hidden tools
 * removed) are touched; everything else, both ways, is forwarded as it came.
 */
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import { blockedCallResult, isForwarded, type Approver, type DecisionEvent, type Upstream } from '../core';
import { approveByElicitation } from './elicitationApprover';
import { failClosedEvent, NAMELESS_CALL, upstreamFailureResult } from './relayAnswers';
import {
  errorMessage,
  INTERNAL_ERROR,
  INVALID_PARAMS,
  isNotification,
  isRequest,
  isResponse,
  objectOrUndefined,
  resultMessage,
  type JSONRPCMessage,
  type RequestId,
  type RpcRequest,
} from './jsonRpc';
import type { PolicyGuard } from './policyGuard';
import { OwnRequests } from './ownRequests';
import { UpstreamLink } from './upstreamLink';

export interface SessionIdentity {
  server: string;
  /** The client credential: "stdio", or one per HTTP bearer token. */
  grant: string;
  session: string;
}

export interface SessionRelayOptions {
  guard: PolicyGuard;
  identity: SessionIdentity;
  downstream: Transport;
  upstream: Upstream;
  /** A forwarded call with no answer (and no progress) for this long gets an error result. */
  callTimeoutMs?: number;
  onclose?: () => void;
}

interface PendingRequest {
  id: RequestId;
  method: string;
  forwarded: boolean;
  progressToken?: string | number;
  /** tools/list without a cursor: its answer replaces what we know of the server's tools. */
  firstPage?: boolean;
  event?: DecisionEvent;
  forwardedAt?: number;
  timer?: NodeJS.Timeout;
}

const DEFAULT_CALL_TIMEOUT_MS = 5 * 60 * 1000;
const SCHEMA_FETCH_TIMEOUT_MS = 15000;

function idKey(id: RequestId): string {
  return typeof id === 'number' ? `n${id}` : `s${id}`;
}

export class SessionRelay {
  readonly identity: SessionIdentity;
  private readonly guard: PolicyGuard;
  private readonly downstream: Transport;
  private readonly link: UpstreamLink;
  private readonly callTimeoutMs: number;
  private readonly pending = new Map<string, PendingRequest>();
  private readonly progressOwners = new Map<string, RequestId>();
  /** Answered by the proxy already (timeout, dead upstream): a late upstream answer is dropped. */
  private readonly abandoned = new Set<string>();
  private readonly own: OwnRequests;
  /** tools/call requests being decided (an approval may take minutes): the client may cancel them. */
  private readonly deciding = new Map<string, AbortController>();
  private client: string | undefined;
  private clientCanElicit = false;
  private schemaFetch: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: SessionRelayOptions) {
    this.identity = options.identity;
    this.guard = options.guard;
    this.downstream = options.downstream;
    this.callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.link = new UpstreamLink({
      server: options.identity.server,
      upstream: options.upstream,
      defaultCwd: options.guard.policyFolder,
      onmessage: (message) => this.fromUpstream(message),
      onfailure: (reason) => this.upstreamFailed(reason),
    });
    this.own = new OwnRequests({ toClient: (message, options) => this.downstream.send(message, options), toUpstream: (message) => this.link.send(message) });
  }

  /** Starts the downstream side; `eagerUpstream` starts the upstream now so a bad command fails early. */
  async start(eagerUpstream = false): Promise<void> {
    this.downstream.onmessage = (message) => this.fromDownstream(message);
    this.downstream.onclose = () => void this.close();
    this.downstream.onerror = () => undefined;
    if (eagerUpstream) await this.link.ensureStarted();
    await this.downstream.start();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const request of this.pending.values()) clearTimeout(request.timer);
    this.pending.clear();
    this.own.closeAll();
    await this.link.close();
    await this.downstream.close().catch(() => undefined);
    this.options.onclose?.();
  }

  // ── client → upstream ──────────────────────────────────────────────

  private fromDownstream(message: JSONRPCMessage): void {
    if (isResponse(message)) {
      // The client's answer to the proxy's own request (approval) is never forwarded upstream.
      if (!this.own.settle(message)) this.forward(message);
      return;
    }
    if (isRequest(message)) {
      const params = objectOrUndefined(message.params);
      const pending: PendingRequest = { id: message.id, method: message.method, forwarded: false };
      const token = objectOrUndefined(params?._meta)?.progressToken;
      if (typeof token === 'string' || typeof token === 'number') {
        pending.progressToken = token;
        this.progressOwners.set(String(token), message.id);
      }
      if (message.method === 'tools/list') pending.firstPage = params?.cursor === undefined;
      this.pending.set(idKey(message.id), pending);
      if (message.method === 'initialize') this.noteInitialize(params);
      if (message.method === 'tools/call') {
        void this.decideToolCall(message, pending);
        return;
      }
      pending.forwarded = true;
      this.forward(message);
      return;
    }
    if (isNotification(message) && message.method === 'notifications/cancelled') {
      const requestId = objectOrUndefined(message.params)?.requestId;
      const deciding = typeof requestId === 'string' || typeof requestId === 'number' ? this.deciding.get(idKey(requestId)) : undefined;
      // The upstream never saw a call still being decided: the cancellation stops here.
      if (deciding) return deciding.abort();
    }
    this.forward(message);
  }

  private noteInitialize(params: Record<string, unknown> | undefined): void {
    this.link.rememberInitialize(params);
    const info = objectOrUndefined(params?.clientInfo);
    if (info && typeof info.name === 'string') this.client = typeof info.version === 'string' ? `${info.name} ${info.version}` : info.name;
    this.clientCanElicit = objectOrUndefined(params?.capabilities)?.elicitation !== undefined;
  }

  private refuseMalformedCall(request: RpcRequest): void {
    const { server, session } = this.identity;
    this.guard.recordDecision(failClosedEvent(this.guard.engine.policy, { server, tool: '', session, client: this.client }, NAMELESS_CALL));
    this.pending.delete(idKey(request.id));
    this.toDownstream(errorMessage(request.id, INVALID_PARAMS, `mcp-policy: ${NAMELESS_CALL}`));
  }

  private async decideToolCall(request: RpcRequest, pending: PendingRequest): Promise<void> {
    const params = objectOrUndefined(request.params) ?? {};
    const { server, session, grant } = this.identity;
    if (typeof params.name !== 'string' || params.name.length === 0) {
      // No rule can be looked up for a call that names no tool: refused here, never forwarded.
      this.refuseMalformedCall(request);
      return;
    }
    const tool = params.name;
    const cancelled = new AbortController();
    this.deciding.set(idKey(request.id), cancelled);
    let event: DecisionEvent;
    try {
      const engine = this.guard.engine;
      if (engine.policy.plan(server, tool).validateInput && !this.guard.hasUpstreamSchemas(server)) await this.fetchToolSchemas();
      const call = { server, tool, arguments: params.arguments, session, grant, ...(this.client ? { client: this.client } : {}) };
      event = await engine.decide(call, this.approverFor(request.id), cancelled.signal);
      if (cancelled.signal.aborted && isForwarded(event.decision)) {
        event = { ...event, decision: 'rejected', reason: 'the client cancelled the call before it was forwarded' };
      }
      this.guard.recordDecision(event);
    } catch (error) {
      // Fail closed: whatever went wrong while deciding, the call does not go upstream.
      const reason = `the proxy failed while deciding, so the call was not forwarded: ${(error as Error)?.message ?? String(error)}`;
      event = failClosedEvent(this.guard.engine.policy, { server, tool, session, client: this.client }, reason);
      try {
        this.guard.recordDecision(event);
      } catch {
        // the answer below still tells the client
      }
    }
    this.deciding.delete(idKey(request.id));
    if (this.closed) return;
    if (!isForwarded(event.decision)) {
      this.pending.delete(idKey(request.id));
      // A cancelled request gets no answer: the client has stopped waiting for one.
      if (!cancelled.signal.aborted) this.toDownstream(resultMessage(request.id, blockedCallResult(event)));
      return;
    }
    pending.event = event;
    pending.forwarded = true;
    pending.forwardedAt = performance.now();
    this.armTimer(pending);
    this.forward(request as JSONRPCMessage);
  }

  private approverFor(relatedId: RequestId): Approver | undefined {
    if (this.guard.approver) return this.guard.approver;
    if (!this.clientCanElicit) return undefined;
    return (request) => approveByElicitation((method, params, signal) => this.own.askClient(method, params, relatedId, signal), request);
  }

  private forward(message: JSONRPCMessage): void {
    this.link.send(message).catch((error: Error) => {
      if (isRequest(message)) {
        const pending = this.pending.get(idKey(message.id));
        if (pending) this.answerFailure(pending, error.message);
      }
      // An HTTP upstream that refused a send is reconnected on the next request.
      void this.link.dropConnection(error.message);
    });
  }

  // ── upstream → client ──────────────────────────────────────────────

  private fromUpstream(message: JSONRPCMessage): void {
    if (isResponse(message)) {
      const key = idKey(message.id);
      if (this.own.settle(message)) return;
      if (this.abandoned.delete(key)) return;
      const pending = this.pending.get(key);
      if (!pending) {
        this.toDownstream(message);
        return;
      }
      this.pending.delete(key);
      clearTimeout(pending.timer);
      if (pending.progressToken !== undefined) this.progressOwners.delete(String(pending.progressToken));
      this.toDownstream(this.answered(pending, message));
      return;
    }
    if (isNotification(message) && message.method === 'notifications/progress') {
      const token = objectOrUndefined(message.params)?.progressToken;
      const owner = token === undefined ? undefined : this.progressOwners.get(String(token));
      if (owner !== undefined) {
        const pending = this.pending.get(idKey(owner));
        if (pending?.timer) this.armTimer(pending);
        this.toDownstream(message, { relatedRequestId: owner });
        return;
      }
    }
    // Server→client requests (sampling, elicitation, roots) ride the stream of a request in flight.
    this.toDownstream(message, isRequest(message) ? this.latestInFlight() : undefined);
  }

  private answered(pending: PendingRequest, message: JSONRPCMessage & { result?: Record<string, unknown>; error?: { message: string } }): JSONRPCMessage {
    const result = message.result;
    if (pending.method === 'tools/call' && pending.event) {
      const ms = Math.round(performance.now() - (pending.forwardedAt ?? 0));
      const failed = message.error !== undefined || result?.isError === true;
      const outcome = { id: pending.event.id, ok: !failed, ms, ...(failed ? { error: message.error?.message ?? firstText(result) ?? 'isError result' } : {}) };
      this.guard.recordOutcome(pending.event, outcome);
      return message;
    }
    if (pending.method === 'initialize' && result && typeof result.protocolVersion === 'string') {
      this.link.setProtocolVersion(result.protocolVersion);
      return message;
    }
    if (pending.method === 'tools/list' && result && Array.isArray(result.tools)) {
      const { server } = this.identity;
      this.guard.rememberTools(server, result.tools, pending.firstPage === true);
      const policy = this.guard.engine.policy;
      const visible = result.tools.filter((tool: { name?: unknown }) => !(typeof tool?.name === 'string' && policy.isHidden(server, tool.name)));
      return resultMessage(pending.id, { ...result, tools: visible });
    }
    return message;
  }

  private latestInFlight(): TransportSendOptions | undefined {
    let latest: RequestId | undefined;
    for (const request of this.pending.values()) if (request.forwarded) latest = request.id;
    return latest === undefined ? undefined : { relatedRequestId: latest };
  }

  private toDownstream(message: JSONRPCMessage, options?: TransportSendOptions): void {
    if (this.closed) return;
    this.downstream.send(message, options).catch(() => undefined);
  }

  // ── failures ───────────────────────────────────────────────────────

  private upstreamFailed(reason: string): void {
    this.guard.reportProblem(reason, this.identity.server);
    for (const pending of [...this.pending.values()]) if (pending.forwarded) this.answerFailure(pending, reason);
    this.own.upstreamFailed(reason);
  }

  /** A dead or silent upstream: tool calls get an isError result, other requests a JSON-RPC error. */
  private answerFailure(pending: PendingRequest, reason: string): void {
    const key = idKey(pending.id);
    if (!this.pending.delete(key)) return;
    clearTimeout(pending.timer);
    this.abandoned.add(key);
    if (pending.progressToken !== undefined) this.progressOwners.delete(String(pending.progressToken));
    if (pending.method === 'tools/call' && pending.event) {
      const ms = Math.round(performance.now() - (pending.forwardedAt ?? 0));
      const outcome = { id: pending.event.id, ok: false, ms, error: reason };
      this.guard.recordOutcome(pending.event, outcome);
      this.toDownstream(resultMessage(pending.id, upstreamFailureResult(pending.event, outcome)));
      return;
    }
    this.toDownstream(errorMessage(pending.id, INTERNAL_ERROR, `mcp-policy: ${reason}`));
  }

  private armTimer(pending: PendingRequest): void {
    clearTimeout(pending.timer);
    pending.timer = setTimeout(() => {
      const seconds = Math.round(this.callTimeoutMs / 1000);
      this.forward({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: pending.id, reason: `no answer within ${seconds} s` } } as JSONRPCMessage);
      this.answerFailure(pending, `upstream "${this.identity.server}" did not answer within ${seconds} s`);
    }, this.callTimeoutMs);
    pending.timer.unref();
  }

  // ── the proxy's own requests ───────────────────────────────────────

  /** validate_input needs the upstream's own schemas; ask for every page if the client has not. */
  private fetchToolSchemas(): Promise<void> {
    this.schemaFetch ??= (async () => {
      let cursor: string | undefined;
      let first = true;
      do {
        const result = await this.own.askUpstream('tools/list', cursor === undefined ? {} : { cursor }, SCHEMA_FETCH_TIMEOUT_MS);
        if (Array.isArray(result.tools)) this.guard.rememberTools(this.identity.server, result.tools, first);
        first = false;
        cursor = typeof result.nextCursor === 'string' ? result.nextCursor : undefined;
      } while (cursor !== undefined);
    })()
      .catch(() => undefined) // the catalog is the fallback; the engine says when neither knows
      .finally(() => {
        this.schemaFetch = undefined;
      });
    return this.schemaFetch;
  }
}

function firstText(result: Record<string, unknown> | undefined): string | undefined {
  const content = result?.content;
  if (!Array.isArray(content)) return undefined;
  const text = (content[0] as { text?: unknown } | undefined)?.text;
  return typeof text === 'string' ? text.slice(0, 300) : undefined;
}
