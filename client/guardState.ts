import * as fs from 'node:fs';
import * as path from 'node:path';
import { findNodeAtLocation, parseTree } from 'jsonc-parser';
import * as vscode from 'vscode';
import { JsonDocument } from '../core/document';
import type { Policy } from '../core/model';
import { policyServerFor } from '../proxy/clientConfigs/policyImport';
import { readClientConfig, type ConfigServer } from '../proxy/clientConfigs/readConfig';
import { backupPath } from '../proxy/clientConfigs/wrapConfig';
import { log } from './log';

export const GUARD_COMMAND = 'mcpPolicy.guardServers';

/** What `.vscode/mcp.json` holds next to the workspace policy. */
export interface GuardSnapshot {
  config: string | undefined;
  /** Servers VS Code starts directly that no policy guards. */
  unguarded: ConfigServer[];
  /** Servers VS Code starts directly although the policy guards them too: the agent sees both. */
  bypassing: Array<{ server: ConfigServer; guardedAs: string }>;
  policy: vscode.Uri | undefined;
  canUnguard: boolean;
}

/** The workspace's `.vscode/mcp.json` (first folder). */
export function workspaceMcpConfig(): string | undefined {
  const folder = vscode.workspace.workspaceFolders?.[0];
  return folder ? path.join(folder.uri.fsPath, '.vscode', 'mcp.json') : undefined;
}

export function snapshot(policy: vscode.Uri | undefined): GuardSnapshot {
  const config = workspaceMcpConfig();
  const empty: GuardSnapshot = { config, unguarded: [], bypassing: [], policy, canUnguard: config !== undefined && fs.existsSync(backupPath(config)) };
  if (!config || !fs.existsSync(config)) return empty;
  let servers: ConfigServer[];
  try {
    servers = readClientConfig(fs.readFileSync(config, 'utf8'), config, { client: 'vscode' }).filter((server) => !server.wrapped && server.upstream);
  } catch (error) {
    log().warn(`Could not read ${config}: ${(error as Error).message}`);
    return empty;
  }
  let parsed: Policy | undefined;
  if (policy) {
    try {
      parsed = new JsonDocument(fs.readFileSync(policy.fsPath, 'utf8')).value as Policy | undefined;
    } catch {
      // an unreadable policy guards nothing
    }
  }
  for (const server of servers) {
    const guardedAs = parsed && policy ? policyServerFor(parsed, policy.fsPath, server) : undefined;
    if (guardedAs) empty.bypassing.push({ server, guardedAs });
    else empty.unguarded.push(server);
  }
  return empty;
}

/**
 * Keeps the views' welcome content (context keys), a warning per unguarded server in
 * `.vscode/mcp.json` (with Guard These Servers as its fix) and a notification when a server
 * runs unguarded next to its guarded twin up to date.
 */
export class GuardState implements vscode.Disposable {
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('mcpPolicy.guard');
  private readonly subscriptions: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;
  private warned = '';
  current: GuardSnapshot = { config: undefined, unguarded: [], bypassing: [], policy: undefined, canUnguard: false };

  constructor(
    private readonly locatePolicy: () => Promise<vscode.Uri | undefined>,
    /** Whether the local proxy offers the guarded servers to VS Code's agent now. */
    private readonly guarding: () => boolean,
  ) {
    const watcher = vscode.workspace.createFileSystemWatcher('**/{.vscode/mcp.json,.vscode/mcp.json.mcp-policy-backup.json,*mcp-policy.json,*mcp-policy.jsonc}');
    const soon = (): void => this.schedule();
    this.subscriptions.push(
      this.diagnostics,
      watcher,
      watcher.onDidChange(soon),
      watcher.onDidCreate(soon),
      watcher.onDidDelete(soon),
      vscode.languages.registerCodeActionsProvider({ pattern: '**/.vscode/mcp.json' }, { provideCodeActions: (_document, _range, context) => this.fixes(context) }, { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] }),
    );
    this.schedule();
  }

  schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), 150);
  }

  async refresh(): Promise<GuardSnapshot> {
    const state = snapshot(await this.locatePolicy());
    this.current = state;
    await vscode.commands.executeCommand('setContext', 'mcpPolicy.unguardedServers', state.unguarded.length + state.bypassing.length > 0);
    await vscode.commands.executeCommand('setContext', 'mcpPolicy.canUnguard', state.canUnguard);
    this.publish(state);
    // Both copies reach the agent only while the local proxy offers the guarded one.
    const key = this.guarding() ? state.bypassing.map((entry) => entry.server.name).join(',') : '';
    if (key && key !== this.warned) {
      this.warned = key;
      const names = state.bypassing.map((entry) => entry.server.name).join(', ');
      void vscode.window
        .showWarningMessage(`${names} ${state.bypassing.length === 1 ? 'is' : 'are'} in .vscode/mcp.json unguarded, next to the guarded one: VS Code's agent sees both, and the unguarded one bypasses the policy.`, 'Guard These Servers')
        .then((choice) => (choice ? vscode.commands.executeCommand(GUARD_COMMAND) : undefined));
    }
    if (!key) this.warned = '';
    return state;
  }

  private publish(state: GuardSnapshot): void {
    this.diagnostics.clear();
    if (!state.config || (state.unguarded.length === 0 && state.bypassing.length === 0)) return;
    let text: string;
    try {
      text = fs.readFileSync(state.config, 'utf8');
    } catch {
      return;
    }
    const tree = parseTree(text);
    const lines = text.split('\n');
    const position = (offset: number): vscode.Position => {
      let line = 0;
      let rest = offset;
      while (line < lines.length && rest > lines[line]!.length) rest -= lines[line++]!.length + 1;
      return new vscode.Position(line, rest);
    };
    const at = (server: ConfigServer): vscode.Range => {
      const node = tree ? findNodeAtLocation(tree, server.path)?.parent?.children?.[0] : undefined;
      return node ? new vscode.Range(position(node.offset), position(node.offset + node.length)) : new vscode.Range(0, 0, 0, 0);
    };
    const found: vscode.Diagnostic[] = [];
    for (const server of state.unguarded) {
      const diagnostic = new vscode.Diagnostic(at(server), `MCP server "${server.name}" is not guarded by a policy: VS Code's agent calls its tools unchecked.`, vscode.DiagnosticSeverity.Warning);
      diagnostic.source = 'MCP Policy';
      diagnostic.code = 'unguarded-server';
      found.push(diagnostic);
    }
    for (const { server, guardedAs } of state.bypassing) {
      const diagnostic = new vscode.Diagnostic(at(server), `MCP server "${server.name}" is guarded by the policy as "${guardedAs}", but this unguarded entry lets VS Code's agent bypass it.`, vscode.DiagnosticSeverity.Warning);
      diagnostic.source = 'MCP Policy';
      diagnostic.code = 'bypassed-policy';
      found.push(diagnostic);
    }
    this.diagnostics.set(vscode.Uri.file(state.config), found);
  }

  private fixes(context: vscode.CodeActionContext): vscode.CodeAction[] {
    const ours = context.diagnostics.filter((diagnostic) => diagnostic.source === 'MCP Policy');
    if (ours.length === 0) return [];
    const action = new vscode.CodeAction('Guard These Servers (MCP Policy)', vscode.CodeActionKind.QuickFix);
    action.command = { command: GUARD_COMMAND, title: 'Guard These Servers' };
    action.diagnostics = ours;
    action.isPreferred = true;
    return [action];
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const subscription of this.subscriptions) subscription.dispose();
  }
}
