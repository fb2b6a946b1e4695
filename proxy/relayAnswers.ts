/** Answers the proxy gives in the upstream's place: a fail-closed denial and a dead upstream. */
import { DECISION_META_KEY, newDecisionEvent, type CompiledPolicy, type DecisionEvent } from '../core';
import type { UpstreamOutcome } from './host';
import { objectOrUndefined } from './jsonRpc';

/** A call refused without consulting the rules: deciding failed, or the request was malformed. */
export function failClosedEvent(
  policy: CompiledPolicy,
  call: { server: string; tool: string; session: string; client: string | undefined },
  reason: string,
): DecisionEvent {
  return newDecisionEvent({
    server: call.server,
    tool: call.tool,
    // The arguments are left out: redacting them may be what failed.
    arguments: {},
    decision: 'denied',
    rule: 'default',
    reason,
    policy: policy.hash,
    evalMicros: 0,
    session: call.session,
    client: call.client,
  });
}

export function upstreamFailureResult(event: DecisionEvent, outcome: UpstreamOutcome): Record<string, unknown> {
  const upstream: NonNullable<DecisionEvent['upstream']> = { ok: false, ms: outcome.ms };
  if (outcome.error !== undefined) upstream.error = outcome.error;
  return {
    content: [
      {
        type: 'text',
        text: `[UPSTREAM FAILED] ${event.tool}: ${outcome.error ?? 'no answer'}. The call was ${event.decision} and forwarded; whether it took effect is unknown. The next request restarts the upstream.`,
      },
    ],
    isError: true,
    _meta: { [DECISION_META_KEY]: { ...event, upstream } },
  };
}

/** The progress token a request's params carry, if a usable one. */
export function progressTokenOf(params: Record<string, unknown> | undefined): string | number | undefined {
  const token = objectOrUndefined(params?._meta)?.progressToken;
  return typeof token === 'string' || typeof token === 'number' ? token : undefined;
}

/** The start of a result's first text, for an outcome line. */
export function firstText(result: Record<string, unknown> | undefined): string | undefined {
  const content = result?.content;
  if (!Array.isArray(content)) return undefined;
  const text = (content[0] as { text?: unknown } | undefined)?.text;
  return typeof text === 'string' ? text.slice(0, 300) : undefined;
}
