/**
 * The Tool Catalog's actions: Add Rule (action and limit, written where it decides), Show Change
 * and Accept Change for a drifted tool, and Refresh Tool Catalog with errors that name the
 * server that failed and offer to open its upstream.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { readCatalogFile } from '../core/catalog';
import { formatJsonPath } from '../core/jsonPath';
import { acceptDefinitionInFile } from '../core/pinAccept';
import type { PinnedDefinition } from '../core/pinning';
import { notifyCatalogChanged, runCli } from './catalogCommands';
import { addRuleEdits, changedSpan, parseLimit, type RuleAction, type RuleRequest } from './catalogRuleEdits';
import type { CatalogNode, CatalogView } from './catalogView';
import { errorMessage, log } from './log';
import { goToRule } from './policyEdits';

type ToolNode = Extract<CatalogNode, { kind: 'tool' }>;

const ACTIONS: ReadonlyArray<vscode.QuickPickItem & { action: RuleAction }> = [
  { label: 'Allow', description: 'calls go through (limits and argument checks apply)', action: 'allow' },
  { label: 'Approve', description: 'a person approves each call', action: 'approve' },
  { label: 'Deny', description: 'every call is refused', action: 'deny' },
  { label: 'Hide', description: 'left out of tools/list and refused when called', action: 'hide' },
];

const LIMITS: ReadonlyArray<vscode.QuickPickItem & { limit: string | undefined }> = [
  { label: 'No limit', limit: undefined },
  { label: '10 per minute', limit: '10 per minute' },
  { label: '60 per hour', limit: '60 per hour' },
  { label: '100 per day', limit: '100 per day' },
  { label: 'Other…', description: 'calls per window, e.g. "5 per 30 s"', limit: '' },
];

/** Asks for the action and the limit; undefined when the user cancels. */
async function askRule(server: string | undefined, tool: string): Promise<RuleRequest | undefined> {
  const where = server !== undefined ? ` on ${server}` : '';
  const action = await vscode.window.showQuickPick(ACTIONS, { title: `Add Rule: ${tool}${where}`, placeHolder: `What the policy does with calls of ${tool}` });
  if (!action) return undefined;
  if (action.action === 'hide' || action.action === 'deny') return { server, tool, action: action.action };
  const choice = await vscode.window.showQuickPick(LIMITS, { title: `Add Rule: ${tool}${where}: ${action.label}`, placeHolder: 'At most how many calls per window' });
  if (!choice) return undefined;
  let text = choice.limit;
  if (text === '') {
    text = await vscode.window.showInputBox({
      title: `Add Rule: ${tool}: limit`,
      prompt: 'Calls per window: "10 per minute", "100 per day", "5 per 30 s"',
      validateInput: (value) => (parseLimit(value) ? undefined : 'Write a whole number, "per", and second, minute, hour, day or a number of seconds ("5 per 30 s").'),
    });
    if (text === undefined) return undefined;
  }
  const limit = text !== undefined ? parseLimit(text) : undefined;
  return { server, tool, action: action.action, ...(limit ? { limit } : {}) };
}

/**
 * Add Rule: the rule goes where it decides (the server's `tools` when the policy has one, an
 * existing exact rule in place), as one minimal edit, saved so the running proxy reloads it.
 */
export async function addCatalogRule(policy: vscode.Uri, view: CatalogView, node: ToolNode | undefined, asked?: RuleRequest): Promise<void> {
  const tool = node?.tool.name ?? (await vscode.window.showInputBox({ prompt: 'Tool name (or glob) for the new rule' }));
  if (!tool) return;
  const request = asked ?? (await askRule(node?.server, tool));
  if (!request) return;
  const document = await vscode.workspace.openTextDocument(policy);
  const before = document.getText();
  let result;
  try {
    result = addRuleEdits(before, request, view.current.catalog);
  } catch (error) {
    throw new Error(`${vscode.workspace.asRelativePath(policy)}: the rule was not added: ${errorMessage(error)}`);
  }
  const span = changedSpan(before, result.text);
  if (span.length > 0 || span.content.length > 0) {
    const edit = new vscode.WorkspaceEdit();
    edit.replace(document.uri, new vscode.Range(document.positionAt(span.offset), document.positionAt(span.offset + span.length)), span.content);
    if (!(await vscode.workspace.applyEdit(edit))) throw new Error(`${vscode.workspace.asRelativePath(policy)} could not be edited.`);
  }
  if (document.isDirty) await document.save();
  const written = formatJsonPath(result.path);
  await goToRule(policy, written);
  void view.reload();
  const verdict = result.verdict;
  if (result.decides) {
    void vscode.window.showInformationMessage(`Added to ${written}: ${tool}${request.server !== undefined ? ` on ${request.server}` : ''} is now ${verdict ? verdict.effect : request.action}${verdict?.limits.length ? ` (${verdict.limits.join(', ')})` : ''}.`);
    return;
  }
  const choice = await vscode.window.showWarningMessage(
    `Added to ${written}, but ${verdict?.rule ?? 'another rule'} still decides ${tool}: ${verdict?.reason ?? ''}`,
    'Go to Deciding Rule',
  );
  if (choice && verdict) await goToRule(policy, verdict.rule);
}

/** Show Change: the pinned definition beside the one the server lists now. */
export async function showToolChange(view: CatalogView, node: ToolNode | undefined): Promise<void> {
  if (!node || !view.drifts) return;
  const drift = view.drifts.get(node.server, node.tool.name);
  if (!drift) {
    void vscode.window.showInformationMessage(`${node.tool.name} matches its pin in the catalog.`);
    return;
  }
  const { pinned, live } = view.drifts.uris(node.server, node.tool.name);
  await vscode.commands.executeCommand('vscode.diff', pinned, live, `${node.tool.name}: pinned ↔ live (${node.server})`, { preview: false });
}

/**
 * Accept Change: the catalog pins the definition the server lists now (core/pinAccept.ts, which
 * `mcp-policy catalog` shares). It goes into the catalog file that has the server, else the one
 * beside the policy.
 */
export async function acceptToolChange(view: CatalogView, node: ToolNode | undefined, languageClient: LanguageClient | undefined): Promise<void> {
  if (!node || !view.drifts) return;
  const drift = view.drifts.get(node.server, node.tool.name);
  if (!drift) return;
  if (!drift.definition && drift.kind !== 'removed') throw new Error(`The server's current definition of ${node.tool.name} is not known, so there is nothing to pin: refresh the tool catalog instead.`);
  const policy = view.policy;
  const files = view.current.files;
  const holder = files.find((file) => {
    try {
      return readCatalogFile(file).servers[node.server] !== undefined;
    } catch {
      return false;
    }
  });
  const target = holder ?? (policy ? path.join(path.dirname(policy.fsPath), 'mcp-policy.catalog.json') : files[0]);
  if (!target) throw new Error('There is no catalog file to pin the tool in: run "Refresh Tool Catalog" first.');
  acceptDefinitionInFile(target, node.server, node.tool.name, drift.definition as (PinnedDefinition & Record<string, unknown>) | undefined);
  log().info(`Accepted the change of ${node.server}/${node.tool.name}: pinned in ${target}`);
  view.drifts.forget(node.server, node.tool.name);
  await notifyCatalogChanged(languageClient, [target]);
  await view.reload();
  void vscode.window.showInformationMessage(`Accepted the new definition of ${node.tool.name}: pinned in ${vscode.workspace.asRelativePath(target)}.`);
}

/** What the catalog command said went wrong: its error lines, not its last line (which may be "wrote …"). */
export function catalogFailures(stderr: string): Array<{ server: string | undefined; message: string }> {
  const failures: Array<{ server: string | undefined; message: string }> = [];
  for (const raw of stderr.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const failed = /^mcp-policy catalog: (.+?): failed: (.*)$/.exec(line);
    if (failed) failures.push({ server: failed[1], message: failed[2] ?? '' });
    else if (/^mcp-policy catalog: /.test(line)) failures.push({ server: undefined, message: line.replace(/^mcp-policy catalog: /, '') });
  }
  return failures;
}

/**
 * Refresh Tool Catalog: each server's failure is said as such, with the way to fix it (open its
 * upstream in the policy, or the log); servers that answered are refreshed all the same.
 */
export async function refreshToolCatalog(cliPath: string, policy: vscode.Uri, env: Record<string, string>, view: CatalogView, languageClient: LanguageClient | undefined): Promise<void> {
  const { code, output, errors } = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'MCP Policy: asking the servers for their tools…' },
    () => runCli(cliPath, ['catalog', policy.fsPath], path.dirname(policy.fsPath), env),
  );
  for (const line of output.split('\n')) if (line.trim()) log().info(`catalog: ${line}`);
  await view.reload();
  await notifyCatalogChanged(languageClient, [...view.current.files]);
  if (code === 0) {
    void vscode.window.showInformationMessage(`Tool catalog refreshed: ${view.current.catalog.serverNames().length} server(s).`);
    return;
  }
  const failures = catalogFailures(errors ?? output);
  const first = failures[0];
  const servers = failures.filter((failure) => failure.server !== undefined);
  const summary =
    servers.length > 0
      ? `The tool catalog was not refreshed for ${servers.map((f) => `"${f.server}" (${f.message})`).join(', ')}${/^wrote /m.test(output) ? '; the other servers were refreshed' : ''}.`
      : `The tool catalog was not refreshed: ${first?.message ?? `the catalog command exited with ${String(code)}`}.`;
  const fix = servers[0]?.server;
  const actions = fix !== undefined ? ['Open Upstream', 'Show Log'] : ['Open Policy', 'Show Log'];
  const choice = await vscode.window.showErrorMessage(`MCP Policy: ${summary}`, ...actions);
  if (choice === 'Open Upstream' && fix !== undefined) await goToRule(policy, formatJsonPath(['servers', fix, 'upstream']));
  else if (choice === 'Open Policy') await vscode.window.showTextDocument(policy, { preview: false });
  else if (choice === 'Show Log') log().show(true);
}
