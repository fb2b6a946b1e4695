import * as vscode from 'vscode';

/**
 * Policy files have a language of their own, so that only this extension's server validates,
 * completes and formats them (one Problem per mistake, no formatter prompt), while every other
 * JSON file keeps VS Code's JSON tooling and formatter.
 */
export const POLICY_LANGUAGE = 'mcp-policy';

/** A JSON file of any name that declares the policy schema is a policy too. */
const SCHEMA_REFERENCE = /"\$schema"\s*:\s*"[^"]*policy\.schema\.json"/;

/** Gives JSON documents that declare the policy schema the policy language, now and when opened. */
export function adoptPolicyDocuments(context: vscode.ExtensionContext): void {
  const adopt = (document: vscode.TextDocument): void => {
    if (document.languageId !== 'json' && document.languageId !== 'jsonc') return;
    // `$schema` comes first in practice; a large JSON file is not read through.
    if (!SCHEMA_REFERENCE.test(document.getText(new vscode.Range(0, 0, 40, 0)))) return;
    void vscode.languages.setTextDocumentLanguage(document, POLICY_LANGUAGE).then(undefined, () => undefined);
  };
  vscode.workspace.textDocuments.forEach(adopt);
  context.subscriptions.push(vscode.workspace.onDidOpenTextDocument(adopt));
}

/**
 * Earlier versions served policies as JSONC, so VS Code asked which formatter to use and could
 * save this extension as the default formatter of every JSON or JSONC file, one that formats
 * none of them now. That choice, wherever it was saved, is taken back.
 */
export async function releaseJsonFormatter(extensionId: string): Promise<void> {
  for (const languageId of ['json', 'jsonc']) {
    const config = vscode.workspace.getConfiguration('editor', { languageId });
    const inspected = config.inspect<string>('defaultFormatter');
    const targets: Array<[string | undefined, vscode.ConfigurationTarget]> = [
      [inspected?.globalLanguageValue, vscode.ConfigurationTarget.Global],
      [inspected?.workspaceLanguageValue, vscode.ConfigurationTarget.Workspace],
      [inspected?.workspaceFolderLanguageValue, vscode.ConfigurationTarget.WorkspaceFolder],
    ];
    for (const [value, target] of targets) {
      if (value?.toLowerCase() !== extensionId.toLowerCase()) continue;
      await config.update('defaultFormatter', undefined, target, true).then(undefined, () => undefined);
    }
  }
}
