/** Why a tools/call cannot be decided by the rules at all, or undefined when it can. */
import { objectOrUndefined } from './jsonRpc';

export const NAMELESS_CALL = 'the tools/call request names no tool (params.name must be a non-empty string), so it was not forwarded';

export function refusedCallReason(params: Record<string, unknown> | undefined): string | undefined {
  if (typeof params?.name !== 'string' || params.name.length === 0) return NAMELESS_CALL;
  // The rules and schemas speak of named arguments; anything else would be forwarded unchecked.
  if (params.arguments !== undefined && objectOrUndefined(params.arguments) === undefined) {
    return 'the tools/call arguments must be an object of named arguments, so it was not forwarded';
  }
  return undefined;
}
