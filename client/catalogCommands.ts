import { spawn } from 'node:child_process';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
// Single core modules, not the index: the index pulls in the engine and ajv, which activation does not need.
import { catalogPathsFor, type ToolCatalog } from '../core/catalog';
import { JsonDocument } from '../core/document';
import type { Policy } from '../core/model';
import { startingPolicy } from '../core/startingPolicy';
import { readSettings } from './config';
import { errorMessage, log } from './log';

const CATALOG_TIMEOUT_MS = 120_000;

/** The language server reloads catalogs on this notification without waiting for file events. */
const CATALOG_CHANGED = 'mcpPolicy/catalogChanged';

export async function notifyCatalogChanged(client: LanguageClient | undefined, files: string[]): Promise<void> {
  if (!client?.isRunning()) return;
  await client.sendNotification(CATALOG_CHANGED, { files });
}

/**
 * Runs `mcp-policy catalog <policy>` (the bundled CLI, on the extension host's own Node) so
 * each upstream is asked for its tools; returns the catalog files the policy reads that now
 * exist. It starts the processes the policy names: callers check workspace trust first.
 */
export async function refreshCatalog(cliPath: string, policy: vscode.Uri, extraEnv: Record<string, string> = {}): Promise<string[]> {
  const { code, output, errors } = await runCli(cliPath, ['catalog', policy.fsPath], path.dirname(policy.fsPath), extraEnv);
  for (const line of output.split('\n')) if (line.trim()) log().info(`catalog: ${line}`);
  // The error is what the command wrote to stderr: its last line overall may be "wrote …".
  if (code !== 0) throw new Error(lastLine(errors.replace(/^mcp-policy catalog: /gm, '')) ?? `the catalog command exited with ${String(code)}`);
  const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(policy));
  const named = (new JsonDocument(text).value as { catalog?: unknown } | undefined)?.catalog;
  const files: string[] = [];
  for (const file of catalogPathsFor(policy.fsPath, Array.isArray(named) ? named.filter((e): e is string => typeof e === 'string') : undefined)) {
    try {
      await vscode.workspace.fs.stat(vscode.Uri.file(file));
      files.push(file);
    } catch {
      // not written (named but for another server set)
    }
  }
  return files;
}

export function runCli(cliPath: string, args: string[], cwd: string, extraEnv: Record<string, string> = {}): Promise<{ code: number | null; output: string; errors: string }> {
  return new Promise((resolve, reject) => {
    // In desktop VS Code execPath is Electron: ELECTRON_RUN_AS_NODE makes it a plain Node.
    const child = spawn(process.execPath, [cliPath, ...args], { cwd, env: { ...process.env, ...extraEnv, ELECTRON_RUN_AS_NODE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let errors = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      errors += chunk;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the catalog command did not finish within ${CATALOG_TIMEOUT_MS / 1000} s`));
    }, CATALOG_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, errors });
    });
  });
}

function lastLine(text: string): string | undefined {
  return text.trim().split('\n').filter(Boolean).pop();
}

/**
 * Writes the starting policy into the policy the proxy enforces: the workspace default when
 * there is none yet, or, after the user confirms, over the current one (its upstreams kept).
 * "Save as Draft…" writes a separate file instead, which the proxy does not enforce.
 */
export async function createPolicyFromCatalog(catalog: ToolCatalog, catalogFiles: readonly string[], currentPolicy: vscode.Uri | undefined, offerGuard = false): Promise<void> {
  if (catalog.isEmpty) {
    if (offerGuard) {
      const choice = await vscode.window.showWarningMessage('There is no tool catalog yet, but .vscode/mcp.json has MCP servers: Guard These Servers writes the policy from them, with their catalog.', 'Guard These Servers');
      if (choice) await vscode.commands.executeCommand('mcpPolicy.guardServers');
      return;
    }
    void vscode.window.showWarningMessage('There is no tool catalog yet: run "MCP Policy: Refresh Tool Catalog" first, or add an mcp-policy.catalog.json.');
    return;
  }
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  let target: vscode.Uri | undefined;
  if (!currentPolicy && folder) {
    target = vscode.Uri.joinPath(folder, readSettings(folder).policyFile);
  } else if (currentPolicy) {
    const replace = `Replace ${vscode.workspace.asRelativePath(currentPolicy)}`;
    const choice = await vscode.window.showWarningMessage(
      `Write the starting policy into ${vscode.workspace.asRelativePath(currentPolicy)}, the policy the local proxy enforces? Its rules are replaced; its upstreams are kept.`,
      { modal: true },
      replace,
      'Save as Draft…',
    );
    if (choice === replace) target = currentPolicy;
    else if (choice === 'Save as Draft…') {
      target = await vscode.window.showSaveDialog({
        title: 'Save the starting policy as a draft (not enforced)',
        defaultUri: vscode.Uri.joinPath(currentPolicy, '..', 'starting.mcp-policy.json'),
        filters: { 'MCP policy': ['json', 'jsonc'] },
      });
    }
  }
  if (!target) return;
  let current: Policy | undefined;
  if (currentPolicy) {
    try {
      current = new JsonDocument(new TextDecoder().decode(await vscode.workspace.fs.readFile(currentPolicy))).value as Policy;
    } catch (error) {
      log().warn(`Could not read ${currentPolicy.fsPath} for its upstreams: ${errorMessage(error)}`);
    }
  }
  const policy = startingPolicy(catalog, catalogFiles, target.fsPath, current);
  await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(`${JSON.stringify(policy, null, 2)}\n`));
  await vscode.window.showTextDocument(target, { preview: false });
  log().info(`Starting policy written to ${target.fsPath}`);
}
