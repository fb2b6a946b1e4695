/**
 * One row of the Decisions view. Read left to right, most important first, so that what a
 * narrow sidebar cuts off is the least needed: the icon (decision, or a failed upstream), the
 * tool, then "server · Decision · time · reason". The tooltip keeps the whole story.
 */
import * as vscode from 'vscode';
import type { Decision, DecisionEvent } from '../core/events';
import { upstreamFailed } from './decisionFilter';

export const DECISION_LOOK: Record<Decision, { icon: string; color: string; label: string }> = {
  allowed: { icon: 'pass', color: 'testing.iconPassed', label: 'Allowed' },
  approved: { icon: 'verified', color: 'testing.iconPassed', label: 'Approved' },
  denied: { icon: 'circle-slash', color: 'errorForeground', label: 'Denied' },
  rate_limited: { icon: 'watch', color: 'editorWarning.foreground', label: 'Rate limited' },
  invalid_arguments: { icon: 'warning', color: 'editorWarning.foreground', label: 'Invalid arguments' },
  rejected: { icon: 'close', color: 'errorForeground', label: 'Approval rejected' },
};

/** A forwarded call whose upstream answered with an error: not the green of a success. */
const FAILED_UPSTREAM = { icon: 'error', color: 'errorForeground' };

export function decisionTreeItem(event: DecisionEvent, now = new Date()): vscode.TreeItem {
  const look = DECISION_LOOK[event.decision];
  const failed = upstreamFailed(event);
  const label = failed ? `${look.label}, upstream failed` : look.label;
  // Short on the row (a failed upstream implies the call was let through); whole in the tooltip.
  const shortLabel = failed ? 'Upstream failed' : look.label;
  const item = new vscode.TreeItem(event.tool, vscode.TreeItemCollapsibleState.None);
  item.id = event.id;
  item.iconPath = failed ? new vscode.ThemeIcon(FAILED_UPSTREAM.icon, new vscode.ThemeColor(FAILED_UPSTREAM.color)) : new vscode.ThemeIcon(look.icon, new vscode.ThemeColor(look.color));
  // For a failed call the upstream's error says more than "allowed by the rule …".
  const why = failed ? (event.upstream?.error ?? 'error result') : event.reason;
  item.description = `${event.server} · ${shortLabel} · ${formatTime(event.time, now)} · ${oneLine(why)}`;
  item.tooltip = decisionTooltip(event, label);
  // Menus key on the decision: Allow This Tool only makes sense for denied and rejected calls.
  item.contextValue = `decision.${event.decision}`;
  item.accessibilityInformation = { label: `${label}: ${event.tool} on ${event.server}, ${oneLine(why)}` };
  // A click explains the decision: it opens the rule that made it.
  item.command = { command: 'mcpPolicy.goToRule', title: 'Go to Rule', arguments: [event] };
  return item;
}

/** Today's calls by time of day; older ones (history from the audit log) with their date. */
function formatTime(iso: string, now: Date): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const time = date.toLocaleTimeString(undefined, { hour12: false });
  return date.toDateString() === now.toDateString() ? time : `${date.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })} ${time}`;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function decisionTooltip(event: DecisionEvent, label: string): vscode.MarkdownString {
  const md = new vscode.MarkdownString(undefined, true);
  md.appendMarkdown(`**${label}** · \`${escapeCode(event.tool)}\` on server \`${escapeCode(event.server)}\`\n\n`);
  md.appendText(event.reason);
  md.appendMarkdown(`\n\nRule: \`${escapeCode(event.rule)}\``);
  if (event.counter) md.appendMarkdown(` · counter \`${escapeCode(event.counter)}\``);
  if (event.retryAfterMs !== undefined) md.appendMarkdown(` · retry after ${Math.ceil(event.retryAfterMs / 1000)} s`);
  if (event.upstream) {
    md.appendMarkdown(`\n\nUpstream: ${event.upstream.ok ? 'answered' : '**failed**'} in ${event.upstream.ms} ms`);
    if (event.upstream.error) md.appendText(` (${event.upstream.error})`);
  }
  const who = [
    event.client && `Client: ${escapeMarkdown(event.client)}`,
    event.grant && `credential ${escapeMarkdown(event.grant)}`,
    event.session && `session \`${escapeCode(event.session)}\``,
  ].filter(Boolean);
  if (who.length > 0) md.appendMarkdown(`\n\n${who.join(' · ')}`);
  md.appendMarkdown(`\n\n${escapeMarkdown(new Date(event.time).toLocaleString())} · decided in ${event.evalMicros} µs`);
  if (event.policy) md.appendMarkdown(` · policy \`${escapeCode(event.policy.slice(0, 19))}\``);
  md.appendMarkdown('\n\nArguments (secrets redacted):');
  md.appendCodeblock(JSON.stringify(event.arguments ?? {}, null, 2), 'json');
  return md;
}

function escapeCode(text: string): string {
  return text.replace(/`/g, "'");
}

function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}
