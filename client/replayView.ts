import * as vscode from 'vscode';
import { isDriftRow } from './driftRows';
import type { ReplayedCall, ReplayReport } from '../core/replay';
import type { DecisionStore } from './decisionStore';
import { errorMessage, log } from './log';
import { goToRule } from './policyEdits';
import { POLICY_LANGUAGE } from './policyLanguage';
import { isPolicyFileName } from './policyLocator';

export const REPLAY_VIEW_ID = 'mcpPolicy.replay';
export const REPLAY_COMMAND = 'mcpPolicy.replayDecisions';
const GO_TO_RULE_COMMAND = 'mcpPolicy.replay.goToRule';
/** The Replay view shows once there is a replay to show. */
const SHOWN_CONTEXT = 'mcpPolicy.replayShown';

type ReplayNode = { kind: 'group'; label: string; description: string; calls: ReplayedCall[]; icon: string; expanded: boolean } | { kind: 'call'; call: ReplayedCall };

interface Shown {
  report: ReplayReport;
  draft: vscode.Uri;
}

/** The result of Replay Decisions Against This Policy: the calls whose decision changes, grouped by change. */
class ReplayTree implements vscode.TreeDataProvider<ReplayNode> {
  private shown: Shown | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;

  get draft(): vscode.Uri | undefined {
    return this.shown?.draft;
  }

  show(shown: Shown | undefined): void {
    this.shown = shown;
    this.changed.fire();
  }

  getChildren(node?: ReplayNode): ReplayNode[] {
    if (node) return node.kind === 'group' ? node.calls.map((call) => ({ kind: 'call', call })) : [];
    const report = this.shown?.report;
    if (!report) return [];
    const groups: ReplayNode[] = [];
    const byChange = new Map<string, ReplayedCall[]>();
    for (const call of report.changed) {
      const change = `${call.recorded.decision} → ${call.decision}`;
      byChange.set(change, [...(byChange.get(change) ?? []), call]);
    }
    for (const [change, calls] of byChange) {
      groups.push({ kind: 'group', label: change, description: callCount(calls.length), calls, icon: blocked(calls[0]!.decision) ? 'circle-slash' : 'pass', expanded: true });
    }
    if (report.ruleChanged.length > 0) {
      groups.push({ kind: 'group', label: 'Same decision, another rule', description: callCount(report.ruleChanged.length), calls: report.ruleChanged, icon: 'arrow-swap', expanded: false });
    }
    const changed = new Set(report.changed);
    const redacted = report.calls.filter((call) => call.redactedChecked.length > 0 && !changed.has(call));
    if (redacted.length > 0) {
      groups.push({ kind: 'group', label: 'Unchanged, but decided on redacted values', description: callCount(redacted.length), calls: redacted, icon: 'warning', expanded: false });
    }
    return groups;
  }

  getTreeItem(node: ReplayNode): vscode.TreeItem {
    if (node.kind === 'group') {
      const item = new vscode.TreeItem(node.label, node.expanded ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed);
      item.description = node.description;
      item.iconPath = new vscode.ThemeIcon(node.icon);
      item.contextValue = 'replayGroup';
      return item;
    }
    const { call } = node;
    const event = call.recorded;
    const item = new vscode.TreeItem(event.tool, vscode.TreeItemCollapsibleState.None);
    const time = new Date(event.time).toLocaleTimeString();
    item.description = `${event.server} · ${time} · rule ${event.rule} → ${call.rule}`;
    item.iconPath = new vscode.ThemeIcon(call.redactedChecked.length > 0 ? 'warning' : blocked(call.decision) ? 'circle-slash' : 'pass');
    item.contextValue = 'replayCall';
    item.accessibilityInformation = { label: `${event.tool} on ${event.server}: ${event.decision} → ${call.decision}, now decided by ${call.rule}` };
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.appendMarkdown(`**${event.decision} → ${call.decision}** · \`${event.tool}\` on \`${event.server}\`\n\n`);
    tooltip.appendMarkdown(`Rule \`${event.rule}\` → \`${call.rule}\`\n\n`);
    tooltip.appendText(`Now: ${call.reason}\nRecorded ${event.time}: ${event.reason}\n`);
    if (event.client || event.grant || event.session) tooltip.appendText(`${[event.client && `client ${event.client}`, event.grant && `grant ${event.grant}`, event.session && `session ${event.session}`].filter(Boolean).join(', ')}\n`);
    tooltip.appendCodeblock(JSON.stringify(event.arguments ?? {}, null, 2), 'json');
    if (call.redactedChecked.length > 0) {
      tooltip.appendMarkdown('\n$(warning) ');
      tooltip.appendText(redactedCaveat(call));
    }
    item.tooltip = tooltip;
    item.command = { command: GO_TO_RULE_COMMAND, title: 'Go to Rule', arguments: [node] };
    return item;
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/**
 * Replay Decisions Against This Policy: the decisions this window recorded, decided again by
 * the policy in the editor (unsaved edits included), shown in the Replay view.
 */
export function registerReplay(store: DecisionStore, fallbackPolicy: () => Promise<vscode.Uri | undefined>): vscode.Disposable {
  const tree = new ReplayTree();
  const view = vscode.window.createTreeView(REPLAY_VIEW_ID, { treeDataProvider: tree, showCollapseAll: true });

  const draftUri = async (given: unknown): Promise<vscode.Uri | undefined> => {
    if (given instanceof vscode.Uri) return given;
    const active = vscode.window.activeTextEditor?.document;
    if (active && (active.languageId === POLICY_LANGUAGE || isPolicyFileName(active.fileName))) return active.uri;
    return tree.draft ?? (await fallbackPolicy());
  };

  const replay = async (given?: unknown): Promise<void> => {
    const uri = await draftUri(given);
    if (!uri) {
      void vscode.window.showWarningMessage('Open a policy file to replay the recorded decisions against it.');
      return;
    }
    const document = await vscode.workspace.openTextDocument(uri);
    const name = vscode.workspace.asRelativePath(uri);
    // Drift rows ride in the store beside the calls (driftRows.ts) but decided no call.
    const events = store.all().filter((event) => !isDriftRow(event));
    await vscode.commands.executeCommand('setContext', SHOWN_CONTEXT, true);
    if (events.length === 0) {
      tree.show(undefined);
      view.message = `No recorded decisions to replay yet. Calls made through the local proxy are recorded in Decisions; replay them once there are some.`;
      await vscode.commands.executeCommand(`${REPLAY_VIEW_ID}.focus`);
      return;
    }
    const { replayDecisions } = await import('./replayRun.js');
    const outcome = await replayDecisions(events, uri.fsPath, document.getText());
    if (outcome.kind === 'invalid') {
      const first = outcome.errors[0];
      const where = first ? ` (line ${document.positionAt(first.range.offset).line + 1}: ${first.message})` : '';
      void vscode.window.showErrorMessage(`${name} has ${outcome.errors.length} error(s), so it cannot decide calls${where}. Fix them and replay again.`);
      return;
    }
    const report = outcome.report;
    tree.show({ report, draft: uri });
    const changes = report.changed.length;
    const totals = [...report.totals].map(([change, count]) => `${change}: ${count}`).join(', ');
    const redacted = report.calls.filter((call) => call.redactedChecked.length > 0).length;
    view.message =
      `${report.calls.length} recorded decision${report.calls.length === 1 ? '' : 's'} replayed against ${name}${document.isDirty ? ' (unsaved draft)' : ''}: ` +
      (changes === 0 ? 'no decision changes.' : `${changes} change${changes === 1 ? '' : 's'} (${totals}).`) +
      (redacted > 0 ? ` ${redacted} call${redacted === 1 ? ' was' : 's were'} decided on redacted values: the real values could decide otherwise.` : '');
    view.description = name;
    log().info(`Replay against ${uri.fsPath}: ${view.message}`);
    for (const call of report.calls) if (call.redactedChecked.length > 0) log().info(`  ${call.recorded.tool} (${call.recorded.time}): ${redactedCaveat(call)}`);
    await vscode.commands.executeCommand(`${REPLAY_VIEW_ID}.focus`);
  };

  const goTo = async (node: unknown): Promise<void> => {
    const draft = tree.draft;
    if (!draft || typeof node !== 'object' || node === null || (node as ReplayNode).kind !== 'call') return;
    await goToRule(draft, (node as { call: ReplayedCall }).call.rule);
  };

  const guarded = (run: (arg?: unknown) => Promise<void>) => async (arg?: unknown) => {
    try {
      await run(arg);
    } catch (error) {
      log().error(`Replay failed: ${errorMessage(error)}`);
      void vscode.window.showErrorMessage(`Replay failed: ${errorMessage(error)}`);
    }
  };

  return vscode.Disposable.from(tree, view, vscode.commands.registerCommand(REPLAY_COMMAND, guarded(replay)), vscode.commands.registerCommand(GO_TO_RULE_COMMAND, guarded(goTo)));
}

/** The caveat `mcp-policy replay` prints: the record holds "[redacted]", not the value a check would see. */
function redactedCaveat(call: ReplayedCall): string {
  const plural = call.redactedChecked.length > 1;
  return `The draft checks the redacted value${plural ? 's' : ''} at ${call.redactedChecked.join(', ')}; the recorded call does not hold ${plural ? 'them' : 'it'}, so with the real value the decision could differ from ${call.decision}.`;
}

function blocked(decision: string): boolean {
  return decision !== 'allowed' && decision !== 'approved';
}

function callCount(count: number): string {
  return `${count} call${count === 1 ? '' : 's'}`;
}
