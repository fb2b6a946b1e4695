import * as path from 'node:path';
import * as vscode from 'vscode';
import { POLICY_FILE_GLOBS, readSettings } from './config';

/**
 * Which policy the local proxy, the catalog view and Go to Rule work on: the
 * `mcpPolicy.policyFile` setting (relative to the first workspace folder), and when that file
 * does not exist, the first policy file found in the workspace.
 */
export async function locatePolicy(): Promise<vscode.Uri | undefined> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  const configured = readSettings(folder?.uri).policyFile;
  const candidates: vscode.Uri[] = [];
  if (path.isAbsolute(configured)) candidates.push(vscode.Uri.file(configured));
  else for (const f of vscode.workspace.workspaceFolders ?? []) candidates.push(vscode.Uri.joinPath(f.uri, configured));
  for (const candidate of candidates) {
    if (await exists(candidate)) return candidate;
  }
  const found = await vscode.workspace.findFiles(`{${POLICY_FILE_GLOBS.join(',')}}`, '**/node_modules/**', 20);
  // Shallowest first, so a nested example never wins over the project's own policy.
  found.sort((a, b) => depth(a) - depth(b) || a.fsPath.localeCompare(b.fsPath));
  return found[0];
}

function depth(uri: vscode.Uri): number {
  return uri.path.split('/').length;
}

async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(uri);
    return true;
  } catch {
    return false;
  }
}

/** True for file names the product treats as policies. */
export function isPolicyFileName(fileName: string): boolean {
  const base = path.basename(fileName);
  return /^(?:.+\.|\.)?mcp-policy\.jsonc?$/.test(base);
}
