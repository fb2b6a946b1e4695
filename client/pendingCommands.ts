import * as vscode from 'vscode';
import { errorMessage, log } from './log';
import type { PendingApproval, PendingApprovals } from './pendingApprovals';
import type { PendingNode } from './pendingItems';
import { allowTool } from './policyEdits';

export const PENDING_COMMANDS = {
  approve: 'mcpPolicy.pending.approve',
  deny: 'mcpPolicy.pending.deny',
  alwaysAllow: 'mcpPolicy.pending.alwaysAllow',
  showArguments: 'mcpPolicy.pending.showArguments',
  focus: 'mcpPolicy.showPendingApprovals',
} as const;

/** Read-only documents with an approval's arguments: `mcp-policy-approval:/<id>/<tool> arguments.json`. */
const ARGUMENTS_SCHEME = 'mcp-policy-approval';
/** Arguments documents stay readable after their approval ends, for so many approvals. */
const KEPT_DOCUMENTS = 50;

export interface PendingCommandDeps {
  pending: PendingApprovals;
  /** The policy the local proxy enforces (throws with a clear message when there is none). */
  policy: () => Promise<vscode.Uri>;
  /** The Pending group focused and revealed in the Decisions view. */
  revealPending: () => Promise<void>;
  /** The Decisions view's selection, for commands run from a keybinding. */
  selected: () => PendingNode | undefined;
}

/** Approve / Deny / Always Allow / Show Arguments for a pending approval, and the focus command. */
export function registerPendingCommands(deps: PendingCommandDeps): vscode.Disposable[] {
  const { pending } = deps;
  const documents = new ArgumentsDocuments(pending);
  const target = (arg: unknown): PendingApproval | { ended: true } | undefined => {
    const id = typeof arg === 'string' ? arg : approvalOf(arg)?.id ?? approvalOf(deps.selected())?.id;
    if (id === undefined) return undefined;
    return pending.get(id) ?? { ended: true };
  };
  const register = (id: string, run: (approval: PendingApproval) => unknown): vscode.Disposable =>
    vscode.commands.registerCommand(id, async (arg?: unknown) => {
      try {
        const approval = target(arg);
        if (!approval) return;
        if ('ended' in approval) {
          void vscode.window.showInformationMessage('That approval had already ended (answered, timed out or cancelled); nothing was changed.');
          return;
        }
        await run(approval);
      } catch (error) {
        log().error(`${id}: ${errorMessage(error)}`);
        void vscode.window.showErrorMessage(`MCP Policy: ${errorMessage(error)}`);
      }
    });

  return [
    documents,
    vscode.workspace.registerTextDocumentContentProvider(ARGUMENTS_SCHEME, documents),
    register(PENDING_COMMANDS.approve, (approval) => pending.approve(approval.id)),
    register(PENDING_COMMANDS.deny, (approval) => pending.deny(approval.id)),
    register(PENDING_COMMANDS.alwaysAllow, async (approval) => {
      // The rule first: if it cannot be written, the call stays pending for another answer.
      await allowTool(await deps.policy(), { rule: approval.rule, tool: approval.tool });
      if (!pending.approve(approval.id)) {
        void vscode.window.showInformationMessage(`The rule allowing ${approval.tool} is written, but this call had already ended before it was approved.`);
      }
    }),
    register(PENDING_COMMANDS.showArguments, async (approval) => {
      const document = await vscode.workspace.openTextDocument(documents.uriFor(approval));
      await vscode.window.showTextDocument(document, { preview: true, preserveFocus: false });
    }),
    vscode.commands.registerCommand(PENDING_COMMANDS.focus, () => deps.revealPending()),
  ];
}

function approvalOf(node: unknown): PendingApproval | undefined {
  if (typeof node !== 'object' || node === null || !('approval' in node)) return undefined;
  return (node as { approval: PendingApproval }).approval;
}

/** The arguments of an approval as pretty JSON, read-only (a content provider's documents are). */
class ArgumentsDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly texts = new Map<string, string>();

  constructor(private readonly pending: PendingApprovals) {}

  uriFor(approval: PendingApproval): vscode.Uri {
    const text = `${JSON.stringify(approval.arguments ?? {}, null, 2)}\n`;
    this.texts.set(approval.id, text);
    while (this.texts.size > KEPT_DOCUMENTS) this.texts.delete(this.texts.keys().next().value as string);
    const name = `${approval.tool} arguments.json`.replace(/[/\\]/g, '_');
    return vscode.Uri.from({ scheme: ARGUMENTS_SCHEME, path: `/${approval.id}/${name}` });
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    const id = uri.path.split('/')[1] ?? '';
    const approval = this.pending.get(id);
    return this.texts.get(id) ?? (approval ? `${JSON.stringify(approval.arguments ?? {}, null, 2)}\n` : '// This approval has ended.\n');
  }

  dispose(): void {
    this.texts.clear();
  }
}
