import * as vscode from 'vscode';
import { applyEdits, type Edit } from 'jsonc-parser';
import { JsonDocument } from '../core/document';
import type { DecisionEvent } from '../core/events';
import { setValueJsonEdits } from '../core/jsonEdits';
import { formatJsonPath, parseJsonPath } from '../core/jsonPath';
import type { Rule } from '../core/model';

/** What the language server offers for "Allow This Tool" when it provides the edit itself. */
const SERVER_ALLOW_COMMAND = 'mcpPolicy.allowTool';

/** Opens the policy with the rule that decided selected (its key, when the rule is written out). */
export async function goToRule(policy: vscode.Uri, rule: string): Promise<vscode.TextEditor> {
  const document = await vscode.workspace.openTextDocument(policy);
  const path = parseJsonPath(rule) ?? [];
  const range = new JsonDocument(document.getText()).rangeOf(path, 'key');
  const selection = new vscode.Range(document.positionAt(range.offset), document.positionAt(range.offset + range.length));
  const editor = await vscode.window.showTextDocument(document, { selection, preview: false });
  editor.revealRange(selection, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  return editor;
}

/**
 * Makes the policy allow the tool of a blocked call: through the language server's edit when
 * it offers one, else by flipping the deciding exact rule to allow or adding an exact rule
 * (an exact name beats every glob). Saved at once so the running proxy reloads it.
 */
export async function allowTool(policy: vscode.Uri, event: Pick<DecisionEvent, 'rule' | 'tool'>): Promise<void> {
  const path = parseJsonPath(event.rule) ?? [];
  if (path[0] === 'hide' || (path[0] === 'servers' && path[2] === 'hide')) {
    const choice = await vscode.window.showWarningMessage(
      `${event.tool} is hidden by the policy's "hide" list; remove it from there to allow it.`,
      'Go to Rule',
    );
    if (choice) await goToRule(policy, event.rule);
    return;
  }
  // Edit where the deciding rule lives: a rule under servers.S only yields to one there too.
  const server = path[0] === 'servers' && typeof path[1] === 'string' ? path[1] : undefined;
  const available = await vscode.commands.getCommands(true);
  if (available.includes(SERVER_ALLOW_COMMAND)) {
    await vscode.commands.executeCommand(SERVER_ALLOW_COMMAND, policy.toString(), server ?? null, event.tool);
    const document = await vscode.workspace.openTextDocument(policy);
    if (document.isDirty) await document.save();
    await goToRule(policy, formatJsonPath(server !== undefined ? ['servers', server, 'tools', event.tool] : ['tools', event.tool]));
    return;
  }
  const document = await vscode.workspace.openTextDocument(policy);
  const json = new JsonDocument(document.getText());
  const exactRule = (path[0] === 'tools' && path[1] === event.tool && path.length === 2) || (path[0] === 'servers' && path[2] === 'tools' && path[3] === event.tool && path.length === 4);
  const rulePath = exactRule ? path : server !== undefined ? ['servers', server, 'tools', event.tool] : ['tools', event.tool];
  const existing = json.nodeAt(rulePath);
  const edits = existing ? editsFor(document, [...rulePath, 'action'], 'allow') : editsFor(document, rulePath, {} satisfies Rule);
  await applyJsonEdits(document, edits);
  await document.save();
  await goToRule(policy, formatJsonPath(rulePath));
}

/** Adds `"tool": {}` (allow) to `tools`, or opens the rule that is already there. */
export async function addRule(policy: vscode.Uri, tool: string): Promise<void> {
  const document = await vscode.workspace.openTextDocument(policy);
  const json = new JsonDocument(document.getText());
  if (!json.nodeAt(['tools', tool])) await applyJsonEdits(document, editsFor(document, ['tools', tool], {} satisfies Rule));
  await goToRule(policy, formatJsonPath(['tools', tool]));
}

/** Minimal, as the language server's quick fixes are: only the new or changed part is written, neighbours and comments stay. */
function editsFor(document: vscode.TextDocument, path: ReadonlyArray<string | number>, value: unknown): Edit[] {
  return setValueJsonEdits(document.getText(), [...path], value);
}

async function applyJsonEdits(document: vscode.TextDocument, edits: Edit[]): Promise<void> {
  if (edits.length === 0) return;
  const text = document.getText();
  // One replacement of the changed span keeps undo to a single step.
  const first = Math.min(...edits.map((e) => e.offset));
  const newText = applyEdits(text, edits);
  const tail = text.length - Math.max(...edits.map((e) => e.offset + e.length));
  const edit = new vscode.WorkspaceEdit();
  edit.replace(document.uri, new vscode.Range(document.positionAt(first), document.positionAt(text.length - tail)), newText.slice(first, newText.length - tail));
  if (!(await vscode.workspace.applyEdit(edit))) throw new Error('The policy could not be edited.');
}
