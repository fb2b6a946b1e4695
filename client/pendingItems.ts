import * as vscode from 'vscode';
import type { PendingApproval, PendingApprovals } from './pendingApprovals';
import { PENDING_COMMANDS } from './pendingCommands';

/** One line of an argument in the tree; the whole value is in its tooltip and the arguments document. */
const ARGUMENT_DESCRIPTION_CHARS = 200;

/** The "Pending" group at the top of the Decisions view, an approval in it, or one of its arguments. */
export type PendingNode =
  | { readonly pendingKind: 'group' }
  | { readonly pendingKind: 'approval'; readonly approval: PendingApproval }
  | { readonly pendingKind: 'argument'; readonly approval: PendingApproval; readonly key: string; readonly value: unknown };

export function isPendingNode(node: unknown): node is PendingNode {
  return typeof node === 'object' && node !== null && 'pendingKind' in node;
}

/**
 * The Pending group of the Decisions view: each approval with its server, reason and a countdown
 * (redrawn every second while any is pending), its arguments one per row, and inline answers.
 * Nodes are kept per approval so the view redraws one row rather than the whole tree.
 */
export class PendingSection implements vscode.Disposable {
  private readonly group: PendingNode = { pendingKind: 'group' };
  private readonly nodes = new Map<string, { approval: PendingNode; args: PendingNode[] }>();
  private readonly changed = new vscode.EventEmitter<PendingNode | undefined>();
  /** undefined: the tree's shape changed; a node: only its row (the countdown). */
  readonly onDidChange = this.changed.event;
  private ticker: NodeJS.Timeout | undefined;
  private readonly subscription: { dispose(): void };

  constructor(private readonly pending: PendingApprovals) {
    this.subscription = pending.onDidChange(() => this.update());
  }

  private update(): void {
    const live = new Set(this.pending.list().map((p) => p.id));
    for (const id of this.nodes.keys()) if (!live.has(id)) this.nodes.delete(id);
    if (live.size > 0) this.ticker ??= setInterval(() => this.tick(), 1000);
    else if (this.ticker) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
    this.changed.fire(undefined);
  }

  private tick(): void {
    for (const { approval } of this.nodes.values()) this.changed.fire(approval);
  }

  /** How many approvals wait for an answer. */
  get count(): number {
    return this.pending.size;
  }

  /** The group, only while something is pending. */
  roots(): PendingNode[] {
    return this.pending.size > 0 ? [this.group] : [];
  }

  /** The group node to reveal, when there is one. */
  groupNode(): PendingNode | undefined {
    return this.pending.size > 0 ? this.group : undefined;
  }

  children(node: PendingNode): PendingNode[] {
    if (node.pendingKind === 'group') return this.pending.list().map((approval) => this.nodesOf(approval).approval);
    if (node.pendingKind === 'approval') return this.nodesOf(node.approval).args;
    return [];
  }

  parent(node: PendingNode): PendingNode | undefined {
    if (node.pendingKind === 'group') return undefined;
    if (node.pendingKind === 'approval') return this.group;
    return this.nodes.get(node.approval.id)?.approval;
  }

  private nodesOf(approval: PendingApproval): { approval: PendingNode; args: PendingNode[] } {
    let nodes = this.nodes.get(approval.id);
    if (!nodes) {
      const value = approval.arguments;
      const entries = value !== null && typeof value === 'object' && !Array.isArray(value) ? Object.entries(value as Record<string, unknown>) : [['arguments', value] as const];
      nodes = {
        approval: { pendingKind: 'approval', approval },
        args: entries.map(([key, inner]) => ({ pendingKind: 'argument', approval, key, value: inner })),
      };
      this.nodes.set(approval.id, nodes);
    }
    return nodes;
  }

  treeItem(node: PendingNode): vscode.TreeItem {
    switch (node.pendingKind) {
      case 'group': {
        const count = this.pending.size;
        const item = new vscode.TreeItem('Pending', vscode.TreeItemCollapsibleState.Expanded);
        item.id = 'mcpPolicy.pending';
        item.iconPath = new vscode.ThemeIcon('bell-dot', new vscode.ThemeColor('editorWarning.foreground'));
        item.description = `${count} waiting for approval`;
        item.contextValue = 'pendingGroup';
        item.accessibilityInformation = { label: `Pending: ${count} waiting for approval` };
        return item;
      }
      case 'approval': {
        const { approval } = node;
        const left = this.pending.secondsLeft(approval);
        const item = new vscode.TreeItem(approval.tool, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `mcpPolicy.pending.${approval.id}`;
        item.iconPath = new vscode.ThemeIcon('question', new vscode.ThemeColor('editorWarning.foreground'));
        // The countdown first: it is what the narrow default width still shows.
        item.description = `${left} s left · ${approval.server}${approval.reason ? ` · ${approval.reason}` : ''}`;
        item.tooltip = approvalTooltip(approval, left);
        item.contextValue = 'pendingApproval';
        item.accessibilityInformation = { label: `Pending approval: ${approval.tool} on ${approval.server}, ${left} s left${approval.reason ? `, ${approval.reason}` : ''}` };
        item.command = { command: PENDING_COMMANDS.showArguments, title: 'Show Arguments', arguments: [approval.id] };
        return item;
      }
      case 'argument': {
        const text = JSON.stringify(node.value) ?? 'undefined';
        const item = new vscode.TreeItem(node.key, vscode.TreeItemCollapsibleState.None);
        item.id = `mcpPolicy.pending.${node.approval.id}.${node.key}`;
        item.description = text.length > ARGUMENT_DESCRIPTION_CHARS ? `${text.slice(0, ARGUMENT_DESCRIPTION_CHARS)}…` : text;
        const tooltip = new vscode.MarkdownString();
        tooltip.appendCodeblock(JSON.stringify(node.value, null, 2) ?? 'undefined', 'json');
        item.tooltip = tooltip;
        item.contextValue = 'pendingArgument';
        item.accessibilityInformation = { label: `Argument ${node.key}: ${text}` };
        item.command = { command: PENDING_COMMANDS.showArguments, title: 'Show Arguments', arguments: [node.approval.id] };
        return item;
      }
    }
  }

  dispose(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.subscription.dispose();
    this.changed.dispose();
  }
}

function approvalTooltip(approval: PendingApproval, left: number): vscode.MarkdownString {
  const md = new vscode.MarkdownString(undefined, true);
  md.appendMarkdown(`**Waiting for approval** · \`${approval.tool.replace(/`/g, "'")}\` on server \`${approval.server.replace(/`/g, "'")}\`\n\n`);
  if (approval.reason) md.appendText(`${approval.reason}\n\n`);
  md.appendMarkdown(`Rule: \`${approval.rule.replace(/`/g, "'")}\` · rejected in ${left} s without an answer\n\nArguments (secrets redacted):`);
  md.appendCodeblock(JSON.stringify(approval.arguments ?? {}, null, 2), 'json');
  return md;
}
