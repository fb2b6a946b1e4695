import * as vscode from 'vscode';

/**
 * New Policy: an empty `.vscode/mcp-policy.json` in the first workspace folder, opened with the
 * starter suggestion showing (starterSnippet.ts offers it in an empty policy file). An existing
 * policy is opened, never overwritten.
 */
export async function newPolicy(): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  if (!folder) throw new Error('Open a folder first: the policy is written into the workspace, as .vscode/mcp-policy.json.');
  const uri = vscode.Uri.joinPath(folder, '.vscode', 'mcp-policy.json');
  const exists = await vscode.workspace.fs.stat(uri).then(
    () => true,
    () => false,
  );
  if (!exists) await vscode.workspace.fs.writeFile(uri, new Uint8Array());
  await vscode.window.showTextDocument(uri, { preview: false });
  if (!exists) await vscode.commands.executeCommand('editor.action.triggerSuggest');
}
