/** tools/call requests that cannot be decided by the rules at all: why, and their audit line. */
import { objectOrUndefined } from './jsonRpc';
import type { PolicyGuard } from './policyGuard';
import { failClosedEvent } from './relayAnswers';

export const NAMELESS_CALL = 'the tools/call request names no tool (params.name must be a non-empty string), so it was not forwarded';

/** Why a tools/call cannot be decided by the rules at all, or undefined when it can. */
export function refusedCallReason(params: Record<string, unknown> | undefined): string | undefined {
  if (typeof params?.name !== 'string' || params.name.length === 0) return NAMELESS_CALL;
  // The rules and schemas speak of named arguments; anything else would be forwarded unchecked.
  if (params.arguments !== undefined && objectOrUndefined(params.arguments) === undefined) {
    return 'the tools/call arguments must be an object of named arguments, so it was not forwarded';
  }
  return undefined;
}

/** Writes the denial of a refused call; the audit failure's message when it could not. */
export function auditRefusedCall(guard: PolicyGuard, who: { server: string; session: string; client: string | undefined }, raw: unknown, reason: string): string | undefined {
  const tool = objectOrUndefined(objectOrUndefined(raw)?.params)?.name;
  const event = failClosedEvent(guard.engine.policy, { server: who.server, tool: typeof tool === 'string' ? tool : '', session: who.session, client: who.client }, reason);
  try {
    guard.recordDecision(event);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
