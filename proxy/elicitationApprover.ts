/** Approval through the MCP client itself: an `elicitation/create` form with one yes/no field. */
import type { ApprovalAnswer, ApprovalRequest } from '../core';
import { objectOrUndefined } from './jsonRpc';

export type DownstreamRequester = (method: string, params: Record<string, unknown>, signal: AbortSignal) => Promise<Record<string, unknown>>;

export const ELICITATION_BY = 'MCP client (elicitation)';

export async function approveByElicitation(ask: DownstreamRequester, request: ApprovalRequest): Promise<ApprovalAnswer> {
  const why = request.reason ? `\nWhy it needs approval: ${request.reason}` : '';
  const message =
    `Allow the tool call ${request.server}/${request.tool}?${why}\n` +
    `Arguments: ${JSON.stringify(request.arguments, null, 2)}\n` +
    `Rule: ${request.rule}. No answer within ${Math.round(request.timeoutMs / 1000)} s = rejected.`;
  const result = await ask(
    'elicitation/create',
    {
      message,
      requestedSchema: {
        type: 'object',
        properties: { approve: { type: 'boolean', title: 'Approve this call', description: `Run ${request.tool} with these arguments` } },
        required: ['approve'],
      },
    },
    request.signal,
  );
  const action = result.action;
  const approved = action === 'accept' && objectOrUndefined(result.content)?.approve === true;
  if (approved) return { approved: true, by: ELICITATION_BY };
  const what = action === 'accept' ? 'accepted the form without confirming' : action === 'decline' ? 'declined' : action === 'cancel' ? 'cancelled' : `answered "${String(action)}"`;
  return { approved: false, by: ELICITATION_BY, reason: `the MCP client ${what} the approval request` };
}
