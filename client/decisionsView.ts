import * as vscode from 'vscode';
import type { Decision, DecisionEvent } from '../core';
import type { DecisionStore } from './decisionStore';
import { driftTreeItem, isDriftRow } from './driftRows';

export const DECISIONS_VIEW_ID = 'mcpPolicy.decisions';
/** Context key for the title actions: Show Blocked Only vs Show All. */
const BLOCKED_ONLY_KEY = 'mcpPolicy.decisions.blockedOnly';

const LOOK: Record<Decision, { icon: string; color: string; label: string }> = {
  allowed: { icon: 'pass', color: 'testing.iconPassed', label: 'Allowed' },
  approved: { icon: 'verified', color: 'testing.iconPassed', label: 'Approved' },
  denied: { icon: 'circle-slash', color: 'errorForeground', label: 'Denied' },
  rate_limited: { icon: 'watch', color: 'editorWarning.foreground', label: 'Rate limited' },
  invalid_arguments: { icon: 'warning', color: 'editorWarning.foreground', label: 'Invalid arguments' },
  rejected: { icon: 'close', color: 'errorForeground', label: 'Approval rejected' },
};

/** The Decisions tree: every tool call the local proxy decided, newest first. */
export class DecisionsView implements vscode.TreeDataProvider<DecisionEvent>, vscode.Disposable {
  private blockedOnly = false;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  readonly view: vscode.TreeView<DecisionEvent>;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly store: DecisionStore) {
    this.view = vscode.window.createTreeView(DECISIONS_VIEW_ID, { treeDataProvider: this, showCollapseAll: false });
    this.subscriptions.push(this.view, this.changed, store.onDidChange(() => this.refresh()));
    void vscode.commands.executeCommand('setContext', BLOCKED_ONLY_KEY, false);
    this.refresh();
  }

  get showingBlockedOnly(): boolean {
    return this.blockedOnly;
  }

  setBlockedOnly(blockedOnly: boolean): void {
    this.blockedOnly = blockedOnly;
    void vscode.commands.executeCommand('setContext', BLOCKED_ONLY_KEY, blockedOnly);
    this.refresh();
  }

  private refresh(): void {
    this.view.description = this.blockedOnly ? 'Blocked only' : undefined;
    const blocked = this.store.blockedCount;
    this.view.badge = blocked > 0 ? { value: blocked, tooltip: `${blocked} blocked call${blocked === 1 ? '' : 's'}` } : undefined;
    // The empty state is the welcome content in package.json; this only explains an empty filter.
    this.view.message = this.blockedOnly && this.store.size > 0 && this.store.blockedCount === 0 ? 'No blocked calls.' : undefined;
    this.changed.fire();
  }

  getChildren(element?: DecisionEvent): DecisionEvent[] {
    return element ? [] : this.store.list(this.blockedOnly);
  }

  getTreeItem(event: DecisionEvent): vscode.TreeItem {
    if (isDriftRow(event)) return driftTreeItem(event);
    const look = LOOK[event.decision];
    const item = new vscode.TreeItem(event.tool, vscode.TreeItemCollapsibleState.None);
    item.id = event.id;
    item.iconPath = new vscode.ThemeIcon(look.icon, new vscode.ThemeColor(look.color));
    item.description = `${formatTime(event.time)} · ${event.reason}`;
    item.tooltip = tooltip(event, look.label);
    // Menus key on the decision: Allow This Tool only makes sense for denied and rejected calls.
    item.contextValue = `decision.${event.decision}`;
    item.accessibilityInformation = { label: `${look.label}: ${event.tool} on ${event.server}, ${event.reason}` };
    // A click explains the decision: it opens the rule that made it.
    item.command = { command: 'mcpPolicy.goToRule', title: 'Go to Rule', arguments: [event] };
    return item;
  }

  dispose(): void {
    for (const d of this.subscriptions) d.dispose();
  }
}

function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleTimeString(undefined, { hour12: false });
}

function tooltip(event: DecisionEvent, label: string): vscode.MarkdownString {
  const md = new vscode.MarkdownString(undefined, true);
  md.appendMarkdown(`**${label}** · \`${escapeCode(event.tool)}\` on server \`${escapeCode(event.server)}\`\n\n`);
  md.appendText(event.reason);
  md.appendMarkdown(`\n\nRule: \`${escapeCode(event.rule)}\``);
  if (event.retryAfterMs !== undefined) md.appendMarkdown(` · retry after ${Math.ceil(event.retryAfterMs / 1000)} s`);
  if (event.upstream) {
    md.appendMarkdown(`\n\nUpstream: ${event.upstream.ok ? 'answered' : 'failed'} in ${event.upstream.ms} ms`);
    if (event.upstream.error) md.appendText(` (${event.upstream.error})`);
  }
  if (event.client) md.appendMarkdown(`\n\nClient: ${escapeMarkdown(event.client)}`);
  md.appendMarkdown(`\n\n${escapeMarkdown(new Date(event.time).toLocaleString())}\n\nArguments (secrets redacted):`);
  md.appendCodeblock(JSON.stringify(event.arguments ?? {}, null, 2), 'json');
  return md;
}

function escapeCode(text: string): string {
  return text.replace(/`/g, "'");
}

function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}
