import * as vscode from 'vscode';
import type { PendingApprovals } from './pendingApprovals';
import { PENDING_COMMANDS } from './pendingCommands';

/**
 * A status bar badge while any approval is pending, shown in Do Not Disturb too; a click
 * focuses the Pending group of the Decisions view.
 */
export class PendingStatus implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly subscription: { dispose(): void };

  constructor(private readonly pending: PendingApprovals) {
    // Just right of the MCP Policy item (priority 50).
    this.item = vscode.window.createStatusBarItem('mcpPolicy.pendingApprovals', vscode.StatusBarAlignment.Left, 49);
    this.item.name = 'MCP Policy: pending approvals';
    this.item.command = PENDING_COMMANDS.focus;
    this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
    this.subscription = pending.onDidChange(() => this.update());
    this.update();
  }

  private update(): void {
    const count = this.pending.size;
    if (count === 0) {
      this.item.hide();
      return;
    }
    const text = `${count} approval${count === 1 ? '' : 's'} pending`;
    this.item.text = `$(bell-dot) ${text}`;
    const tools = this.pending.list().map((p) => `- \`${p.tool.replace(/`/g, "'")}\` on \`${p.server.replace(/`/g, "'")}\``);
    this.item.tooltip = new vscode.MarkdownString(`**MCP Policy: ${text}**\n\n${tools.join('\n')}\n\nClick to answer in the Decisions view.`);
    this.item.accessibilityInformation = { label: `MCP Policy: ${text}` };
    this.item.show();
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }
}
