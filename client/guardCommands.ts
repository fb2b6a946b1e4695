import * as fs from 'node:fs';
import * as path from 'node:path';
import { applyEdits, modify, parse } from 'jsonc-parser';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { catalogPathsFor, loadCatalog } from '../core/catalog';
import type { Policy } from '../core/model';
import { startingPolicy } from '../core/startingPolicy';
import { relativeToPolicy } from '../proxy/clientConfigs/policyImport';
import { backupPath, formattingOf, moveOutFile, unwrapFile } from '../proxy/clientConfigs/wrapConfig';
import { notifyCatalogChanged, runCli } from './catalogCommands';
import type { CatalogView } from './catalogView';
import { readSettings, SECTION } from './config';
import type { GuardState } from './guardState';
import type { LocalProxy } from './localProxy';
import { inputEnvironment, inputValues } from './inputValues';
import { log } from './log';

export interface GuardDeps {
  cliPath: string;
  secrets: vscode.SecretStorage;
  proxy: LocalProxy;
  state: GuardState;
  catalog: CatalogView;
  languageClient: () => LanguageClient | undefined;
}

/**
 * Guard These Servers: the servers of `.vscode/mcp.json` go into the workspace policy (as
 * `mcp-policy init` writes it, catalog and starting recipe included), leave `.vscode/mcp.json`
 * (kept in its backup for Unguard), and come back to VS Code's agent from the local proxy,
 * which starts now and with the workspace from here on: the agent sees each server once, guarded.
 */
export async function guardServers(deps: GuardDeps): Promise<void> {
  if (!vscode.workspace.isTrusted) throw new Error('Guarding starts the servers to list their tools: trust this workspace first.');
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const state = await deps.state.refresh();
  if (!folder || !state.config || !fs.existsSync(state.config)) throw new Error('This workspace has no .vscode/mcp.json to guard.');
  const config = state.config;
  const servers = [...state.unguarded, ...state.bypassing.map((entry) => entry.server)];
  if (servers.length === 0) {
    void vscode.window.showInformationMessage('Every server of .vscode/mcp.json is guarded already.');
    return;
  }
  let policy = state.policy?.fsPath;
  // Inputs the servers use (API keys VS Code asks for): asked once, kept in secret storage, given
  // to the catalog run and to the local proxy, never written into the policy.
  const inputs = await inputValues(deps.secrets, servers.map((server) => server.upstream));
  if (!inputs) return;
  const inputEnv = inputEnvironment(inputs);
  await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'MCP Policy: guarding the servers of .vscode/mcp.json…' }, async () => {
    if (!policy) {
      const target = path.resolve(folder, readSettings().policyFile);
      const names = state.unguarded.flatMap((server) => ['--server', server.name]);
      const { code, output } = await runCli(deps.cliPath, ['init', '--config', config, ...names, '--out', target, '--project', folder], folder, inputEnv);
      for (const line of output.split('\n')) if (line.trim()) log().info(`init: ${line}`);
      // Exit 1 with the policy written: a server did not answer its tools/list; its tools stay denied.
      if (!fs.existsSync(target)) throw new Error(output.trim().split('\n').pop() ?? `mcp-policy init exited with ${String(code)}`);
      policy = target;
    } else if (state.unguarded.length > 0) {
      const added = addToPolicy(policy, state.unguarded);
      const { output } = await runCli(deps.cliPath, ['catalog', policy], path.dirname(policy), inputEnv);
      for (const line of output.split('\n')) if (line.trim()) log().info(`catalog: ${line}`);
      applyRecipe(policy, added);
    }
    moveOutFile(config, servers.map((server) => server.name), { client: 'vscode' });
  });
  await vscode.workspace.getConfiguration(SECTION).update('proxy.autoStart', true, vscode.ConfigurationTarget.Workspace);
  if (deps.proxy.running) await deps.proxy.stop();
  const status = await deps.proxy.start();
  await deps.catalog.reload();
  await notifyCatalogChanged(deps.languageClient(), catalogPathsFor(policy!, undefined).filter((file) => fs.existsSync(file)));
  await deps.state.refresh();
  const names = servers.map((server) => server.name).join(', ');
  log().info(`Guarded ${names} with ${policy}; originals kept in ${backupPath(config)}`);
  void vscode.window
    .showInformationMessage(
      `Guarded ${names}: VS Code's agent now reaches ${servers.length === 1 ? 'it' : 'them'} only through the policy${status ? ` (${status.servers.length} guarded server${status.servers.length === 1 ? '' : 's'})` : ''}. The original entries are kept for Unguard.`,
      'Open Policy',
      'Unguard',
    )
    .then((choice) => {
      if (choice === 'Open Policy') return vscode.window.showTextDocument(vscode.Uri.file(policy!), { preview: false });
      if (choice === 'Unguard') return vscode.commands.executeCommand('mcpPolicy.unguardServers');
      return undefined;
    });
}

/** The starting recipe's rules for servers just added to an existing policy, from the catalog beside it; other servers keep theirs. */
function applyRecipe(policy: string, added: readonly string[]): void {
  let text = fs.readFileSync(policy, 'utf8');
  const current = parse(text) as Policy | undefined;
  const { catalog, files } = loadCatalog(policy, Array.isArray(current?.catalog) ? current.catalog : undefined);
  const recipe = startingPolicy(catalog, files, policy, { version: '1', servers: Object.fromEntries(added.map((name) => [name, {}])) });
  const formatting = formattingOf(text);
  for (const name of added) {
    const tools = recipe.servers?.[name]?.tools;
    if (tools && Object.keys(tools).length > 0) text = applyEdits(text, modify(text, ['servers', name, 'tools'], tools, { formattingOptions: formatting }));
  }
  fs.writeFileSync(policy, text);
}

/** Adds servers to an existing policy, each with its upstream; returns the names they got. */
function addToPolicy(policy: string, servers: GuardState['current']['unguarded']): string[] {
  const added: string[] = [];
  let text = fs.readFileSync(policy, 'utf8');
  const formatting = formattingOf(text);
  const taken = new Set<string>();
  const existing = (parse(text) as { servers?: Record<string, unknown> } | undefined)?.servers;
  for (const name of Object.keys(existing ?? {})) taken.add(name);
  for (const server of servers) {
    let name = server.name;
    if (taken.has(name)) name = `${server.name}-vscode`;
    for (let n = 2; taken.has(name); n++) name = `${server.name}-${n}`;
    taken.add(name);
    added.push(name);
    text = applyEdits(text, modify(text, ['servers', name, 'upstream'], relativeToPolicy(server.upstream!, path.dirname(policy)), { formattingOptions: formatting }));
  }
  fs.writeFileSync(policy, text);
  return added;
}

/** Unguard: `.vscode/mcp.json` as it was before Guard These Servers (byte for byte unless edited since); the policy stays. */
export async function unguardServers(deps: GuardDeps): Promise<void> {
  const state = await deps.state.refresh();
  if (!state.config || !fs.existsSync(backupPath(state.config))) {
    void vscode.window.showInformationMessage('Nothing to restore: .vscode/mcp.json has no MCP Policy backup.');
    return;
  }
  const result = unwrapFile(state.config);
  // Back to the servers VS Code starts itself: the guarded copies would show each server twice.
  await vscode.workspace.getConfiguration(SECTION).update('proxy.autoStart', undefined, vscode.ConfigurationTarget.Workspace);
  if (deps.proxy.running) await deps.proxy.stop();
  await deps.state.refresh();
  const how = result.restored === 'bytes' ? 'as it was' : `with ${result.entries.join(', ') || 'no entries'} put back (it changed since, the other changes are kept)`;
  log().info(`Unguarded: ${state.config} restored ${how}`);
  void vscode.window.showInformationMessage(`Restored .vscode/mcp.json ${how}. The local proxy is stopped; the policy file stays.`);
}
