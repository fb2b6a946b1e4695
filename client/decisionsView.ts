import * as vscode from 'vscode';
import type { DecisionEvent } from '../core';
import type { DecisionFilter } from './decisionFilter';
import { decisionTreeItem } from './decisionRow';
import type { DecisionStore } from './decisionStore';
import { isPendingNode, type PendingNode, type PendingSection } from './pendingItems';
import { driftTreeItem, isDriftRow } from './driftRows';

export const DECISIONS_VIEW_ID = 'mcpPolicy.decisions';
/** Context key for the title actions: Filter vs Clear Filter. */
const FILTERED_KEY = 'mcpPolicy.decisions.filtered';

/** Waits between reveal attempts (about 2 s in all); undefined marks the last attempt. */
const REVEAL_RETRY_DELAYS_MS = [50, 100, 200, 400, 600, 800, undefined] as const;

/** A row of the Decisions view: a decision, or the Pending group and what is in it. */
export type DecisionsNode = DecisionEvent | PendingNode;

/** The Decisions tree: approvals still pending on top (pendingItems.ts), then every tool call the local proxy decided, newest first. */
export class DecisionsView implements vscode.TreeDataProvider<DecisionsNode>, vscode.Disposable {
  private _filter: DecisionFilter | undefined;
  private readonly changed = new vscode.EventEmitter<DecisionsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  readonly view: vscode.TreeView<DecisionsNode>;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly store: DecisionStore,
    private readonly pending?: PendingSection,
  ) {
    this.view = vscode.window.createTreeView(DECISIONS_VIEW_ID, { treeDataProvider: this, showCollapseAll: false });
    this.subscriptions.push(this.view, this.changed, store.onDidChange(() => this.refresh()));
    if (pending) this.subscriptions.push(pending.onDidChange((node) => (node ? this.changed.fire(node) : this.refresh())));
    void vscode.commands.executeCommand('setContext', FILTERED_KEY, false);
    this.refresh();
  }

  get filter(): DecisionFilter | undefined {
    return this._filter;
  }

  /** undefined shows every decision. */
  setFilter(filter: DecisionFilter | undefined): void {
    this._filter = filter;
    void vscode.commands.executeCommand('setContext', FILTERED_KEY, filter !== undefined);
    this.refresh();
  }

  /** What the view shows, oldest first (as Export writes it). */
  shown(): readonly DecisionEvent[] {
    return this.store.all(this._filter);
  }

  private refresh(): void {
    const filter = this._filter;
    const blocked = this.store.blockedCount;
    // A pending approval is what the user must act on, so it leads the badge when there is one.
    const pending = this.pending?.count ?? 0;
    this.view.badge =
      pending > 0
        ? { value: pending, tooltip: `${pending} approval${pending === 1 ? '' : 's'} pending${blocked > 0 ? `, ${blocked} blocked call${blocked === 1 ? '' : 's'}` : ''}` }
        : blocked > 0
          ? { value: blocked, tooltip: `${blocked} blocked call${blocked === 1 ? '' : 's'}` }
          : undefined;
    if (filter) {
      const shown = this.store.list(filter).length;
      this.view.description = `${filter.text} · ${shown} of ${this.store.size}`;
      // Also above the rows, where it wraps: the title's description is cut by the title actions.
      // (The empty state without a filter is the welcome content in package.json.)
      this.view.message =
        this.store.size === 0
          ? `Filter "${filter.text}" is on; no decisions yet.`
          : shown === 0
            ? `No decisions match "${filter.text}". Clear the filter to see all ${this.store.size}.` : `Filter "${filter.text}": ${shown} of ${this.store.size} decisions.`;
    } else {
      this.view.description = undefined;
      this.view.message = undefined;
    }
    this.changed.fire(undefined);
  }

  /**
   * Shows the view and reveals a node in it. A view that was hidden, or that was just told to refresh,
   * may not hold the node yet when VS Code gets the reveal ("Data tree node not found"; VS Code has no
   * event for a finished refresh), so a failed reveal is tried again while the node is still wanted.
   */
  async reveal(node: () => DecisionsNode | undefined, options: { expand?: number; focus?: boolean; select?: boolean }): Promise<void> {
    await vscode.commands.executeCommand(`${DECISIONS_VIEW_ID}.focus`);
    for (const delayMs of REVEAL_RETRY_DELAYS_MS) {
      const target = node();
      if (!target) return;
      try {
        await this.view.reveal(target, options);
        return;
      } catch (error) {
        if (delayMs === undefined) throw error;
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  }

  /** The selected decision (not a pending row), for commands run without an argument. */
  get selectedDecision(): DecisionEvent | undefined {
    const node = this.view.selection[0];
    return node && !isPendingNode(node) ? node : undefined;
  }

  getChildren(element?: DecisionsNode): DecisionsNode[] {
    if (element) return isPendingNode(element) && this.pending ? this.pending.children(element) : [];
    return [...(this.pending?.roots() ?? []), ...this.store.list(this._filter)];
  }

  getParent(element: DecisionsNode): DecisionsNode | undefined {
    return isPendingNode(element) ? this.pending?.parent(element) : undefined;
  }

  getTreeItem(element: DecisionsNode): vscode.TreeItem {
    if (isPendingNode(element)) return this.pending?.treeItem(element) ?? new vscode.TreeItem('');
    return isDriftRow(element) ? driftTreeItem(element) : decisionTreeItem(element);
  }

  dispose(): void {
    for (const d of this.subscriptions) d.dispose();
  }
}
