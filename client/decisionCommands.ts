/** Filter Decisions… and Export Decisions: what the view shows, and writing exactly that out. */
import { homedir } from 'node:os';
import * as vscode from 'vscode';
import { parseDecisionFilter } from './decisionFilter';
import type { DecisionStore } from './decisionStore';
import type { DecisionsView } from './decisionsView';

/** The folder of the last export, offered again (never the workspace: exports hold call arguments). */
const EXPORT_FOLDER_KEY = 'mcpPolicy.decisions.exportFolder';

/** Asks for the filter in one line, checked as it is typed; an empty line shows everything. */
export async function askDecisionFilter(view: DecisionsView, store: DecisionStore): Promise<void> {
  const servers = store.servers();
  const query = await vscode.window.showInputBox({
    title: 'Filter Decisions',
    value: view.filter?.text ?? '',
    placeHolder: 'e.g. decision:blocked server:fs tool:write_* since:1h upstream:failed',
    prompt:
      `decision: (allowed, approved, denied, rate_limited, invalid_arguments, rejected, blocked, forwarded, comma-separated), ` +
      `server:${servers.length > 0 ? ` (${servers.join(', ')})` : ''}, tool: (text or glob), since: / until: (15m, 2h, 1d or a date), ` +
      'upstream:failed, or words in the tool, reason or rule. Empty shows all.',
    validateInput: (text) => {
      const parsed = parseDecisionFilter(text);
      return parsed.ok ? undefined : { message: parsed.error, severity: vscode.InputBoxValidationSeverity.Error };
    },
  });
  if (query === undefined) return;
  const parsed = parseDecisionFilter(query);
  if (parsed.ok) view.setFilter(parsed.filter);
}

/** Writes the decisions the view shows (its filter applied), oldest first, where the user picks. */
export async function exportDecisions(view: DecisionsView, state: vscode.Memento): Promise<void> {
  const folder = state.get<string>(EXPORT_FOLDER_KEY) ?? homedir();
  const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
  const filter = view.filter;
  const target = await vscode.window.showSaveDialog({
    title: filter ? `Export the decisions shown (${filter.text}) as JSON Lines` : 'Export decisions (JSON Lines)',
    defaultUri: vscode.Uri.joinPath(vscode.Uri.file(folder), `mcp-policy-decisions-${stamp}.jsonl`),
    filters: { 'JSON Lines': ['jsonl'] },
  });
  if (!target) return;
  const lines = view.shown().map((event) => JSON.stringify(event));
  await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(lines.length ? `${lines.join('\n')}\n` : ''));
  if (target.scheme === 'file') await state.update(EXPORT_FOLDER_KEY, vscode.Uri.joinPath(target, '..').fsPath);
  const what = `${lines.length} decision${lines.length === 1 ? '' : 's'}${filter ? ` matching "${filter.text}"` : ''}`;
  void vscode.window.showInformationMessage(`Exported ${what} to ${vscode.workspace.asRelativePath(target)}.`);
}
