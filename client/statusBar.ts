import * as vscode from 'vscode';
import type { DecisionStore } from './decisionStore';
import type { LocalProxy } from './localProxy';

/** Shield in the status bar: proxy on/off, guarded servers, blocked calls; a click opens Decisions. */
export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly proxy: LocalProxy,
    private readonly store: DecisionStore,
  ) {
    this.item = vscode.window.createStatusBarItem('mcpPolicy.status', vscode.StatusBarAlignment.Left, 50);
    this.item.name = 'MCP Policy';
    this.item.command = 'mcpPolicy.showDecisions';
    this.subscriptions.push(this.item, proxy.onDidChange(() => this.update()), store.onDidChange(() => this.update()));
    this.update();
    this.item.show();
  }

  update(): void {
    const { state, status, problem } = this.proxy;
    const blocked = this.store.blockedCount;
    const servers = status?.servers.length ?? 0;
    let text: string;
    const tooltip = new vscode.MarkdownString(undefined, true);
    switch (state) {
      case 'running':
        text = `$(shield) MCP Policy: on · ${plural(servers, 'server')} · ${blocked} blocked`;
        tooltip.appendMarkdown(`**Local proxy on** at \`http://${status?.host ?? '127.0.0.1'}:${status?.port ?? '?'}\`\n\n`);
        for (const server of status?.servers ?? []) tooltip.appendMarkdown(`- \`${server.name}\`: ${server.url}\n`);
        break;
      case 'starting':
        text = '$(loading~spin) MCP Policy: starting';
        tooltip.appendMarkdown('Starting the local proxy…');
        break;
      case 'stopping':
        text = '$(loading~spin) MCP Policy: stopping';
        tooltip.appendMarkdown('Stopping the local proxy…');
        break;
      default:
        text = `$(shield) MCP Policy: off${blocked > 0 ? ` · ${blocked} blocked` : ''}`;
        tooltip.appendMarkdown('**Local proxy off.** Run *MCP Policy: Start Local Proxy* to guard the policy\'s servers.');
    }
    if (problem) {
      text = text.replace('$(shield)', '$(warning)');
      tooltip.appendMarkdown('\n\n---\n\n$(warning) ');
      tooltip.appendText(problem);
      tooltip.appendMarkdown('\n\nDetails are in the *MCP Policy* output.');
    }
    tooltip.appendMarkdown(`\n\n${blocked} blocked call${blocked === 1 ? '' : 's'} · click to open Decisions`);
    this.item.text = text;
    this.item.tooltip = tooltip;
    this.item.backgroundColor = problem ? new vscode.ThemeColor(state === 'running' ? 'statusBarItem.warningBackground' : 'statusBarItem.errorBackground') : undefined;
    this.item.accessibilityInformation = { label: text.replace(/\$\([^)]*\)\s*/g, '') };
  }

  dispose(): void {
    for (const d of this.subscriptions) d.dispose();
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
