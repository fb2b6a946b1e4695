/**
 * One downstream MCP session relayed to its own upstream connection, message by message.
 * Only `tools/call` requests (decided by the policy) and `tools/list` results (hidden tools
 * removed) are touched; everything else, both ways, is forwarded as it came, under ids the
 * relay's ledger gives each side (./relayLedger says why).
 */
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import { blockedCallResult, isForwarded, type Approver, type DecisionEvent, type Upstream } from '../core';
import { escapeControl } from './auditLog';
import { Cancellation } from './cancellation';
import { approveByElicitation } from './elicitationApprover';
import { errorMessage, INTERNAL_ERROR, INVALID_PARAMS, INVALID_REQUEST, classify, isRequestId, objectOrUndefined, resultMessage, type JSONRPCMessage, type RequestId } from './jsonRpc';
import { askClient, askUpstream, type OwnRequestChannels } from './ownRequests';
import type { PolicyGuard } from './policyGuard';
import { keepServerNumbers, type ExactNumbers } from './exactNumbers';
import { describeInexact, inexactIn, type InexactNumber } from './inexactNumbers';
import { RelayLedger } from './relayLedger';
import { outcomeOf, type RelayedRequest, type RequestState } from './relayRequest';
import { failClosedEvent, firstText, progressTokenOf, upstreamFailureResult } from './relayAnswers';
import { auditRefusedCall, refusedCallReason } from './refusedCalls';
import { writeStderr } from './stderrLine';
import { SessionListings } from './sessionListings';
import { settle, type Settled } from './settle';
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
  /** A forwarded request with no answer (and no progress) for this long gets an error answer. */
  callTimeoutMs?: number;
  /** The client transport's, when it writes a server's numbers back as written (exactNumbers.ts). */
  exactNumbers?: ExactNumbers;
  onclose?: () => void;
}

type Request = RelayedRequest;

const DEFAULT_CALL_TIMEOUT_MS = 5 * 60 * 1000;
const SCHEMA_FETCH_TIMEOUT_MS = 15000;

export class SessionRelay {
  readonly identity: SessionIdentity;
  private readonly guard: PolicyGuard;
  private readonly downstream: Transport;
  private readonly link: UpstreamLink;
  private readonly callTimeoutMs: number;
  readonly ledger = new RelayLedger<RequestState>();
  private readonly channels: OwnRequestChannels;
  private client: string | undefined;
  private clientCanElicit = false;
  private readonly listings: SessionListings;
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
      onmessage: (message, relatedUpstreamId) => this.fromUpstream(message, relatedUpstreamId),
      onfailure: (reason) => this.upstreamFailed(reason),
    });
    this.channels = { toClient: (message, sendOptions) => this.downstream.send(message, sendOptions), toUpstream: (message) => this.link.send(message) };
    this.listings = new SessionListings(this.guard.upstreamSchemas, options.identity.server, (cursor) =>
      askUpstream(this.ledger, this.channels, 'tools/list', cursor === undefined ? {} : { cursor }, SCHEMA_FETCH_TIMEOUT_MS),
    );
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
    for (const request of this.ledger.clientRequests()) {
      clearTimeout(request.data.timer);
      request.data.deciding?.abort();
    }
    for (const own of this.ledger.closeAll()) own.settle({ error: { message: 'the session closed' } });
    await this.link.close();
    await this.downstream.close().catch(() => undefined);
    this.options.onclose?.();
  }

  // ── client → upstream ──────────────────────────────────────────────

  private fromDownstream(raw: JSONRPCMessage): void {
    const message = classify(raw);
    switch (message.kind) {
      case 'invalid':
        if (message.method === 'tools/call') this.auditRefusedCall(raw, `the tools/call message is not a valid JSON-RPC request (${message.why})`);
        if (message.id !== undefined) this.toDownstream(errorMessage(message.id, INVALID_REQUEST, `mcp-policy: invalid message: ${message.why}`));
        else this.note(`dropped an invalid message from the client: ${message.why}`);
        return;
      case 'response': {
        const target = this.ledger.takeClientAnswer(message.id);
        if (!target) return this.note(`dropped an answer from the client to a request it was not sent (id ${JSON.stringify(message.id)})`);
        if (target.kind === 'own') return target.request.settle(message);
        this.forward({ ...raw, id: target.request.upstreamId } as JSONRPCMessage);
        return;
      }
      case 'notification':
        return this.notificationFromClient(raw, message.method, message.params);
      case 'request': {
        const { id, method, params } = message;
        const admitted = this.ledger.admitClientRequest(id, method, progressTokenOf(params), {});
        if (typeof admitted === 'string') {
          if (method === 'tools/call') this.auditRefusedCall(raw, `the tools/call request was refused: ${admitted}`);
          this.toDownstream(errorMessage(id, INVALID_REQUEST, `mcp-policy: request refused: ${admitted} (id ${JSON.stringify(id)})`));
          return;
        }
        if (method === 'initialize') this.noteInitialize(params);
        if (method === 'tools/call') {
          this.decideToolCall(raw, admitted, params);
          return;
        }
        if (method === 'tools/list') admitted.data.firstPage = params?.cursor === undefined;
        this.forwardRequest(raw, admitted);
      }
    }
  }

  private notificationFromClient(raw: JSONRPCMessage, method: string, params: Record<string, unknown> | undefined): void {
    if (method === 'notifications/cancelled') {
      const request = this.ledger.clientRequest(params?.requestId as RequestId);
      if (!request) return;
      // The upstream never saw a call still being decided: the cancellation stops here.
      if (request.upstreamId === undefined) return request.data.deciding?.abort();
      this.finishWithoutAnswer(request, 'the client cancelled the call');
      this.forward({ ...raw, params: { ...params, requestId: request.upstreamId } } as JSONRPCMessage);
      return;
    }
    if (method === 'notifications/progress') {
      // Progress the client reports on a request the upstream sent it.
      if (this.ledger.upstreamRequestWithToken(params?.progressToken)) this.forward(raw);
      return;
    }
    // Every MCP notification is notifications/…: anything else is a request in disguise.
    if (!method.startsWith('notifications/')) {
      if (method === 'tools/call') this.auditRefusedCall(raw, 'a tools/call sent as a notification (no id) cannot be answered, so it was not forwarded');
      return this.note(`dropped a notification from the client with a request method: ${method}`);
    }
    this.forward(raw);
  }

  private noteInitialize(params: Record<string, unknown> | undefined): void {
    this.link.rememberInitialize(params);
    const info = objectOrUndefined(params?.clientInfo);
    if (info && typeof info.name === 'string') this.client = typeof info.version === 'string' ? `${info.name} ${info.version}` : info.name;
    this.clientCanElicit = objectOrUndefined(params?.capabilities)?.elicitation !== undefined;
    // A stdio proxy's stderr lands in the client's MCP log: say who is guarded, once.
    if (this.identity.grant === 'stdio') this.note(`guarding session ${this.identity.session} of ${this.client ?? 'an unnamed client'}`);
  }

  /**
   * A message the transport refused before the relay saw it: a tools/call among them is audited;
   * the client's refused answer to a question it was asked ends that question with an error, so
   * the server (or the proxy's own approval) is not left waiting for an answer that will not come.
   */
  refusedByTransport(raw: unknown, reason: string): void {
    const message = objectOrUndefined(raw);
    if (message?.method === 'tools/call') return this.auditRefusedCall(raw, `the tools/call request was refused: ${reason}`);
    if (!message || message.method !== undefined || !isRequestId(message.id)) return;
    const target = this.ledger.takeClientAnswer(message.id);
    const refused = `the client's answer was refused: ${reason}`;
    if (target?.kind === 'upstream') this.forward(errorMessage(target.request.upstreamId, INTERNAL_ERROR, `mcp-policy: ${refused}`));
    else if (target?.kind === 'own') target.request.settle({ error: { message: refused } });
  }

  /** A tools/call that is never decided by the rules: refused, audited, never forwarded. */
  private auditRefusedCall(raw: unknown, reason: string): void {
    const problem = auditRefusedCall(this.guard, { ...this.identity, client: this.client }, raw, reason);
    if (problem) this.note(`the audit log could not record a refused call: ${problem}`);
  }

  /**
   * Decides a tools/call and forwards or answers it. A decision that needs nothing to wait for
   * (no approval, no tools/list to fetch, a synchronous counter store) is acted on in this turn.
   */
  private decideToolCall(raw: JSONRPCMessage, request: Request, params: Record<string, unknown> | undefined): void {
    const { server, session, grant } = this.identity;
    const malformed = refusedCallReason(params);
    if (malformed) {
      // No rule can be looked up for such a call: refused here, never forwarded.
      this.auditRefusedCall(raw, malformed);
      this.ledger.finishClientRequest(request);
      this.toDownstream(errorMessage(request.clientId, INVALID_PARAMS, `mcp-policy: ${malformed}`));
      return;
    }
    const tool = params!.name as string;
    const cancelled = new Cancellation();
    request.data.deciding = cancelled;
    const call = { server, tool, arguments: params!.arguments, session, grant, ...(this.client ? { client: this.client } : {}) };
    const decide = (): DecisionEvent | Promise<DecisionEvent> => this.guard.engine.decideNow(call, this.approverFor(request.clientId), cancelled.signal);
    settle(
      () => (this.guard.mustFetchListing(server, tool) ? this.listings.fetchAll().then(decide) : decide()),
      (decided) => this.actOnDecision(raw, request, cancelled, decided, tool),
    );
  }

  /** `decided` is the decision, or what was thrown while deciding. */
  private actOnDecision(raw: JSONRPCMessage, request: Request, cancelled: Cancellation, decided: Settled<DecisionEvent>, tool: string): void {
    const { server, session } = this.identity;
    let event: DecisionEvent;
    try {
      if ('error' in decided) throw decided.error;
      event = decided.value;
      if (cancelled.aborted && isForwarded(event.decision)) {
        event = { ...event, decision: 'rejected', reason: 'the client cancelled the call before it was forwarded' };
      }
      this.guard.recordDecision(event);
    } catch (error) {
      // Fail closed: whatever went wrong while deciding (the audit log included), the call does not go upstream.
      const reason = `the proxy failed while deciding, so the call was not forwarded: ${(error as Error)?.message ?? String(error)}`;
      event = failClosedEvent(this.guard.engine.policy, { server, tool, session, client: this.client }, reason);
      try {
        this.guard.recordDecision(event);
      } catch {
        // the answer below still tells the client
      }
    }
    request.data.deciding = undefined;
    if (this.closed) return;
    if (!isForwarded(event.decision)) {
      this.ledger.finishClientRequest(request);
      // A cancelled request gets no answer: the client has stopped waiting for one.
      if (!cancelled.aborted) this.toDownstream(resultMessage(request.clientId, blockedCallResult(event)));
      return;
    }
    request.data.event = event;
    this.forwardRequest(raw, request);
  }

  private approverFor(relatedId: RequestId): Approver | undefined {
    if (this.guard.approver) return this.guard.approver;
    if (!this.clientCanElicit) return undefined;
    return (approval) => approveByElicitation((method, params, signal) => askClient(this.ledger, this.channels, method, params, relatedId, signal), approval);
  }

  private forwardRequest(raw: JSONRPCMessage, request: Request): void {
    const upstreamId = this.ledger.forwardClientRequest(request);
    request.data.forwardedAt = performance.now();
    this.armTimer(request);
    this.link.send({ ...raw, id: upstreamId } as JSONRPCMessage).catch((error: Error) => {
      this.answerFailure(request, error.message);
      // An HTTP upstream that refused a send is reconnected on the next request.
      void this.link.dropConnection(error.message);
    });
  }

  private forward(message: JSONRPCMessage): void {
    this.link.send(message).catch((error: Error) => void this.link.dropConnection(error.message));
  }

  // ── upstream → client ──────────────────────────────────────────────

  /** `relatedUpstreamId`: the request whose stream the message came on, when the link can tell. */
  private fromUpstream(raw: JSONRPCMessage, relatedUpstreamId?: RequestId): void {
    const inexact = inexactIn(raw);
    if (inexact !== undefined && !keepServerNumbers(this.options.exactNumbers, raw, inexact, (id) => this.ledger.clientRequestByUpstreamId(id)?.method)) {
      return this.inexactFromUpstream(raw, inexact[0]!);
    }
    const message = classify(raw);
    switch (message.kind) {
      case 'invalid': {
        const target = message.id === undefined ? undefined : this.ledger.clientRequestByUpstreamId(message.id);
        if (target) return this.answerFailure(target, `upstream "${this.identity.server}" sent an invalid answer: ${message.why}`);
        return this.note(`dropped an invalid message from the upstream: ${message.why}`);
      }
      case 'response': {
        const target = this.ledger.takeUpstreamAnswer(message.id);
        if (!target) return this.note(`dropped an answer from the upstream to a request it was not sent (id ${JSON.stringify(message.id)})`);
        if (target.kind === 'own') return target.request.settle(message);
        const request = target.request;
        clearTimeout(request.data.timer);
        this.toDownstream(this.answered(request, { ...raw, id: request.clientId } as JSONRPCMessage, message.result, message.error));
        return;
      }
      case 'notification':
        return this.notificationFromUpstream(raw, message.method, message.params, this.relatedTo(relatedUpstreamId));
      case 'request': {
        const admitted = this.ledger.admitUpstreamRequest(message.id, message.method, progressTokenOf(message.params));
        if (typeof admitted === 'string') {
          this.forward(errorMessage(message.id, INVALID_REQUEST, `mcp-policy: request refused: ${admitted}`));
          return;
        }
        // Server→client requests (sampling, elicitation, roots) ride the stream of the request they
        // came with, or else of a request in flight.
        const related = this.relatedTo(relatedUpstreamId) ?? this.ledger.latestForwarded()?.clientId;
        this.toDownstream({ ...raw, id: admitted.downstreamId } as JSONRPCMessage, related !== undefined ? { relatedRequestId: related } : undefined);
      }
    }
  }

  /**
   * A message whose text held a number the relay would pass on altered (inexactNumbers.ts): an
   * answer becomes a failure for whoever asked, a request is answered with an error, anything
   * else is dropped. The client never receives a changed number as if the server had sent it.
   */
  private inexactFromUpstream(raw: JSONRPCMessage, found: InexactNumber): void {
    const { server } = this.identity;
    const message = classify(raw);
    if (message.kind === 'response') {
      // The request did reach the server (a tool call has run): said, so nobody repeats it to get the answer.
      const reason = `upstream "${server}" answered, but the answer holds ${describeInexact(found)}; mcp-policy does not relay an answer it would change, so it is withheld (the request did reach the server)`;
      const target = this.ledger.takeUpstreamAnswer(message.id);
      if (target?.kind === 'client') return this.answerFailed(target.request, reason);
      if (target?.kind === 'own') return target.request.settle({ error: { message: reason } });
    } else if (message.kind === 'request') {
      this.forward(errorMessage(message.id, INVALID_PARAMS, `mcp-policy: the request holds ${describeInexact(found)}, and cannot be relayed unchanged; send it as a string`));
    }
    this.note(`dropped a message from the upstream that holds ${describeInexact(found)}: it cannot be relayed unchanged`);
  }

  /** The client's id of the forwarded request an upstream id belongs to. */
  private relatedTo(upstreamId: RequestId | undefined): RequestId | undefined {
    return upstreamId === undefined ? undefined : this.ledger.clientRequestByUpstreamId(upstreamId)?.clientId;
  }

  private notificationFromUpstream(raw: JSONRPCMessage, method: string, params: Record<string, unknown> | undefined, related: RequestId | undefined): void {
    if (method === 'notifications/progress') {
      const owner = this.ledger.clientRequestWithToken(params?.progressToken);
      if (!owner) return;
      if (owner.data.timer) this.armTimer(owner);
      this.toDownstream(raw, { relatedRequestId: owner.clientId });
      return;
    }
    if (method === 'notifications/cancelled') {
      const request = this.ledger.upstreamRequest(params?.requestId as RequestId);
      if (!request) return;
      this.ledger.finishUpstreamRequest(request);
      this.toDownstream({ ...raw, params: { ...params, requestId: request.downstreamId } } as JSONRPCMessage);
      return;
    }
    if (!method.startsWith('notifications/')) return this.note(`dropped a notification from the upstream with a request method: ${method}`);
    if (method === 'notifications/tools/list_changed') this.guard.upstreamSchemas.forget(this.identity.server);
    // A message the server sent while answering a request stays on that request's stream.
    this.toDownstream(raw, related !== undefined ? { relatedRequestId: related } : undefined);
  }

  private answered(request: Request, message: JSONRPCMessage, result: Record<string, unknown> | undefined, error: { message: string } | undefined): JSONRPCMessage {
    if (request.method === 'tools/call' && request.data.event) {
      const failed = error !== undefined || result?.isError === true;
      // A number in place of the text is in the audit log as the server wrote it, not as its placeholder.
      const reason = failed ? (error?.message ?? firstText(result) ?? 'isError result') : undefined;
      this.guard.recordOutcome(request.data.event, outcomeOf(request, request.data.event, reason === undefined ? undefined : (this.options.exactNumbers?.original(reason) ?? reason)));
      return message;
    }
    if (request.method === 'initialize' && typeof result?.protocolVersion === 'string') {
      this.link.setProtocolVersion(result.protocolVersion);
      return message;
    }
    if (request.method === 'tools/list' && result && Array.isArray(result.tools)) {
      this.listings.learnPage(result.tools, request.data.firstPage === true, typeof result.nextCursor !== 'string');
      const { server } = this.identity;
      return resultMessage(request.clientId, { ...result, tools: this.guard.visibleTools(server, result.tools) });
    }
    return message;
  }

  private toDownstream(message: JSONRPCMessage, options?: TransportSendOptions): void {
    if (this.closed) return;
    this.downstream.send(message, options).catch(() => undefined);
  }

  // ── failures ───────────────────────────────────────────────────────

  private upstreamFailed(reason: string): void {
    this.guard.reportProblem(reason, this.identity.server);
    const { forwarded, own } = this.ledger.upstreamGone();
    for (const request of forwarded) this.answerFailed(request, reason);
    for (const request of own) request.settle({ error: { message: reason } });
  }

  /** A dead or silent upstream: tool calls get an isError result, other requests a JSON-RPC error. */
  private answerFailure(request: Request, reason: string): void {
    if (!this.ledger.finishClientRequest(request)) return;
    this.answerFailed(request, reason);
  }

  private answerFailed(request: Request, reason: string): void {
    clearTimeout(request.data.timer);
    const event = request.data.event;
    if (request.method === 'tools/call' && event) {
      const outcome = outcomeOf(request, event, reason);
      this.guard.recordOutcome(event, outcome);
      this.toDownstream(resultMessage(request.clientId, upstreamFailureResult(event, outcome)));
      return;
    }
    this.toDownstream(errorMessage(request.clientId, INTERNAL_ERROR, `mcp-policy: ${reason}`));
  }

  /** The client stopped waiting (it cancelled): the request ends here; a late answer matches nothing. */
  private finishWithoutAnswer(request: Request, reason: string): void {
    if (!this.ledger.finishClientRequest(request)) return;
    clearTimeout(request.data.timer);
    const event = request.data.event;
    if (event) this.guard.recordOutcome(event, outcomeOf(request, event, reason));
  }

  private armTimer(request: Request): void {
    clearTimeout(request.data.timer);
    request.data.timer = setTimeout(() => {
      const seconds = Math.round(this.callTimeoutMs / 1000);
      if (request.upstreamId !== undefined) {
        this.forward({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: request.upstreamId, reason: `no answer within ${seconds} s` } } as JSONRPCMessage);
      }
      this.answerFailure(request, `upstream "${this.identity.server}" did not answer within ${seconds} s`);
    }, this.callTimeoutMs);
    request.data.timer.unref();
  }

  /** Names in it come from the client or the server: escaped, so they cannot forge lines or drive the terminal. */
  private note(message: string): void {
    writeStderr(`mcp-policy: ${escapeControl(`${this.identity.server}: ${message}`)}\n`);
  }
}
