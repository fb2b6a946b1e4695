// The text of the approval notification. No vscode import, so the link-safety of call data is
// tested on its own (test/client/approvalMessage.test.ts).
import type { PendingApproval } from './pendingApprovals';

/** The notification's look at the arguments; the Pending group and the arguments document show them all. */
export const PREVIEW_CHARS = 160;

export interface ApprovalLinks {
  approve: string;
  deny: string;
  alwaysAllow: string;
  showArguments: string;
}

/**
 * "An agent wants to run T on S. Reason. [Approve](command:…) · … Arguments: {…}". The answers
 * are command links, which VS Code finds with a pattern (`[label](command:…)`): call data must
 * not form links of its own, nor swallow ours into a label it chose ("[Deny" + our Approve link
 * would read "Deny" and approve). So text before the links loses its brackets, and the
 * arguments, after them, cannot close a label ("](" is broken).
 */
export function approvalMessage(request: PendingApproval, commands: ApprovalLinks): string {
  const link = (label: string, command: string): string => `[${label}](command:${command}?${encodeURIComponent(JSON.stringify([request.id]))})`;
  const args = JSON.stringify(request.arguments ?? {}) ?? 'undefined';
  const preview = args.length > PREVIEW_CHARS ? `${args.slice(0, PREVIEW_CHARS)}… (${args.length} characters)` : args;
  const why = request.reason ? ` ${bracketless(request.reason)}.` : '';
  const links = [
    link('Approve', commands.approve),
    link('Deny', commands.deny),
    link('Always Allow', commands.alwaysAllow),
    link('Show Arguments', commands.showArguments),
  ].join(' · ');
  return `An agent wants to run ${bracketless(request.tool)} on ${bracketless(request.server)}.${why} ${links} · Arguments: ${unlinked(preview)}`;
}

function bracketless(text: string): string {
  return text.replace(/\[/g, '(').replace(/\]/g, ')');
}

function unlinked(text: string): string {
  return text.replace(/\]\(/g, '] (');
}
