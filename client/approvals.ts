import * as vscode from 'vscode';
import type { ApprovalAnswer, ApprovalRequest, Approver } from '../core';
import { readSettings } from './config';
import { approvalMessage } from './approvalMessage';
import { log } from './log';
import { ANSWERED_BY, type PendingApproval, type PendingApprovals } from './pendingApprovals';
import { PENDING_COMMANDS } from './pendingCommands';

/**
 * Asks the user about an `approve` call. The request joins the pending approvals (the
 * Decisions view's Pending group and the status bar badge show it, Do Not Disturb or not) and
 * a notification offers the same answers. No answer within `mcpPolicy.approval.timeoutSeconds`
 * (or the policy's own, shorter, timeout) rejects the call; so does the proxy giving up.
 */
export function createApprover(pending: PendingApprovals): Approver {
  return (request: ApprovalRequest): Promise<ApprovalAnswer> => {
    const timeoutMs = Math.min(readSettings().approvalTimeoutSeconds * 1000, request.timeoutMs > 0 ? request.timeoutMs : Infinity);
    const asked = pending.ask(request, timeoutMs);
    log().info(`Approval asked: ${request.tool} on ${request.server} (${request.rule})`);
    void asked.answer.then((answer) => log().info(`Approval ${answer.approved ? 'given' : 'refused'}: ${request.tool} (${answer.reason ?? answer.by ?? ''})`));
    showNotification(pending, asked.pending, asked.answer, timeoutMs);
    return asked.answer;
  };
}

/**
 * A progress notification, because it is the one kind an extension can close: it ends with the
 * approval, however that is settled (here, in the view, by the deadline), so it never offers
 * answers that no longer count. Its answers are command links. It is cancellable because that gives it a button, and a toast with a button opens
 * expanded, links in view: Cancel rejects the call.
 */
function showNotification(pending: PendingApprovals, request: PendingApproval, answer: Promise<ApprovalAnswer>, timeoutMs: number): void {
  const message = approvalMessage(request, PENDING_COMMANDS);
  void vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'MCP Policy', cancellable: true }, async (progress, token) => {
    token.onCancellationRequested(() => pending.settle(request.id, { approved: false, by: ANSWERED_BY, reason: 'cancelled in VS Code' }));
    // Reported once and never again: a toast whose content changes while the user reaches for
    // a link can move the link away under the pointer. The live countdown is in the Pending group.
    const seconds = Math.max(1, Math.round(timeoutMs / 1000));
    progress.report({ message: `${message} · No answer within ${seconds} s rejects the call.` });
    await answer;
  });
}
