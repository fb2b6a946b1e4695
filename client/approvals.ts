import * as vscode from 'vscode';
import type { ApprovalAnswer, ApprovalRequest, Approver } from '../core';
import { readSettings } from './config';
import { log } from './log';

const BY = 'VS Code';
const MAX_ARGUMENTS_CHARS = 400;

/**
 * Asks the user about an `approve` call with a notification (Approve / Deny). No answer within
 * `mcpPolicy.approval.timeoutSeconds` (or the policy's own, shorter, timeout) rejects the
 * call; so does the proxy giving up (the request's signal).
 */
export function createApprover(): Approver {
  return (request: ApprovalRequest): Promise<ApprovalAnswer> => {
    const timeoutMs = Math.min(readSettings().approvalTimeoutSeconds * 1000, request.timeoutMs > 0 ? request.timeoutMs : Infinity);
    const args = JSON.stringify(request.arguments ?? {});
    const shown = args.length > MAX_ARGUMENTS_CHARS ? `${args.slice(0, MAX_ARGUMENTS_CHARS)}…` : args;
    const why = request.reason ? ` ${request.reason}.` : '';
    const message = `An agent wants to run ${request.tool} on ${request.server}.${why} Arguments: ${shown}`;
    log().info(`Approval asked: ${request.tool} on ${request.server} (${request.rule})`);

    return new Promise<ApprovalAnswer>((resolve) => {
      let settled = false;
      const settle = (answer: ApprovalAnswer): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        request.signal.removeEventListener('abort', onAbort);
        log().info(`Approval ${answer.approved ? 'given' : 'refused'}: ${request.tool} (${answer.reason ?? answer.by ?? ''})`);
        resolve(answer);
      };
      const timer = setTimeout(
        () => settle({ approved: false, by: BY, reason: `no answer in VS Code within ${Math.round(timeoutMs / 1000)} s` }),
        timeoutMs,
      );
      const onAbort = (): void => settle({ approved: false, by: BY, reason: 'the call was cancelled' });
      request.signal.addEventListener('abort', onAbort, { once: true });
      if (request.signal.aborted) onAbort();

      void vscode.window.showWarningMessage(message, { modal: false }, 'Approve', 'Deny').then((choice) => {
        if (settled) {
          // The notification outlived the request: say so rather than pretend the click counted.
          if (choice) void vscode.window.showInformationMessage(`The request to run ${request.tool} had already ended; nothing was changed.`);
          return;
        }
        if (choice === 'Approve') settle({ approved: true, by: BY });
        else settle({ approved: false, by: BY, reason: choice === 'Deny' ? 'denied in VS Code' : 'dismissed in VS Code' });
      });
    });
  };
}
