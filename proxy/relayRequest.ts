/**
 * What a session relay (sessionRelay.ts) keeps with each request of its client's, and the
 * outcome line of a forwarded tool call made from it.
 */
import type { DecisionEvent } from '../core';
import type { Cancellation } from './cancellation';
import type { UpstreamOutcome } from './host';
import type { ClientRequest } from './relayLedger';

export interface RequestState {
  /** tools/list without a cursor: its answer starts a new listing of the server's tools. */
  firstPage?: boolean;
  /** A tools/call still being decided: the client may cancel it. */
  deciding?: Cancellation;
  /** A forwarded tools/call's decision, for its outcome line. */
  event?: DecisionEvent;
  forwardedAt?: number;
  timer?: NodeJS.Timeout;
}

export type RelayedRequest = ClientRequest<RequestState>;

/** A forwarded call's outcome, timed from when it went upstream; `error` when it failed. */
export function outcomeOf(request: RelayedRequest, event: DecisionEvent, error: string | undefined): UpstreamOutcome {
  return { id: event.id, ok: error === undefined, ms: Math.round(performance.now() - (request.data.forwardedAt ?? 0)), ...(error !== undefined ? { error } : {}) };
}
