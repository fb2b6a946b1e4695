/**
 * Drift events in the Decisions view: a row per tool whose live definition differs from its pin,
 * among the calls. The store and the view hold decision events, so a drift rides along as one
 * with decision "drift" (no call was decided) and is drawn here.
 */
import * as vscode from 'vscode';
import { newEventId, type Decision, type DecisionEvent } from '../core/events';
import type { ReportedDrift } from './catalogDrift';

export type DriftRow = DecisionEvent & { drift: ReportedDrift };

const DRIFT_DECISION = 'drift' as Decision;

export function driftRow(drift: ReportedDrift): DecisionEvent {
  const now = Date.now();
  const row: DriftRow = {
    id: newEventId(now),
    time: new Date(now).toISOString(),
    server: drift.server,
    tool: drift.tool,
    arguments: {},
    decision: DRIFT_DECISION,
    rule: drift.enforced ? 'pinning' : 'catalog',
    reason: `${drift.reason}${drift.enforced ? '; hidden and denied (pinning is on)' : '; allowed as the rules say (pinning is off)'}`,
    policy: '',
    evalMicros: 0,
    drift,
  };
  return row;
}

export function isDriftRow(event: DecisionEvent): event is DriftRow {
  return (event as Partial<DriftRow>).drift !== undefined;
}

/** The row of a drift: a diff icon, the change, and a click that opens the diff. */
export function driftTreeItem(row: DriftRow): vscode.TreeItem {
  const item = new vscode.TreeItem(row.tool, vscode.TreeItemCollapsibleState.None);
  item.id = row.id;
  item.iconPath = new vscode.ThemeIcon('diff', new vscode.ThemeColor('editorWarning.foreground'));
  const time = new Date(row.time).toLocaleTimeString(undefined, { hour12: false });
  item.description = `${time} · drift · ${row.reason}`;
  const md = new vscode.MarkdownString();
  md.appendMarkdown(`**Drift** · \`${row.tool.replace(/`/g, "'")}\` on server \`${row.server.replace(/`/g, "'")}\`\n\n`);
  md.appendText(row.reason);
  item.tooltip = md;
  item.contextValue = 'drift';
  item.accessibilityInformation = { label: `Drift: ${row.tool} on ${row.server}, ${row.reason}` };
  item.command = { command: 'mcpPolicy.catalog.showChange', title: 'Show Change', arguments: [{ kind: 'tool', server: row.server, tool: { name: row.tool } }] };
  return item;
}
