import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { relativeToPolicy } from '../proxy/clientConfigs/policyImport';
import { readClientConfig } from '../proxy/clientConfigs/readConfig';
import { workspaceMcpConfig } from './guardState';

/** Policy files by name, whatever language id the editor gives them. */
const POLICY_FILES: vscode.DocumentSelector = [{ scheme: 'file', pattern: '**/{mcp-policy,*.mcp-policy,.mcp-policy}.{json,jsonc}' }];

/**
 * An empty policy file offers a starter: default deny, audit redaction, and a server section
 * to fill in, or the upstreams of `.vscode/mcp.json` when the workspace has one.
 */
export function registerStarterSnippet(): vscode.Disposable {
  return vscode.languages.registerCompletionItemProvider(POLICY_FILES, {
    provideCompletionItems(document) {
      if (document.getText().trim() !== '') return [];
      const items = [starter('MCP policy: starter', servers(document.uri.fsPath) ?? placeholderServers())];
      return items;
    },
  });
}

function starter(label: string, serversJson: string): vscode.CompletionItem {
  const item = new vscode.CompletionItem(label, vscode.CompletionItemKind.Snippet);
  item.detail = 'default deny; add a rule per tool you allow';
  item.insertText = new vscode.SnippetString(
    [
      '{',
      '\t"version": "1",',
      '\t// Tools no rule matches are refused.',
      '\t"default": "deny",',
      '\t"tools": {',
      '\t\t${1:"*_list_*": {\\}}',
      '\t},',
      `\t"servers": ${serversJson},`,
      '\t"audit": { "redact": ["*password*", "*token*", "*secret*"] },',
      '\t"approval": { "timeout": 60 }',
      '}',
      '',
    ].join('\n'),
  );
  // Shown for an empty document, whatever the user typed to ask for completions.
  item.filterText = '{';
  item.sortText = '0';
  item.preselect = true;
  return item;
}

function placeholderServers(): string {
  return '{\n\t\t"${2:server}": {\n\t\t\t"upstream": { "command": "${3:command}", "args": [${4}] }\n\t\t}\n\t}';
}

/** The upstreams of `.vscode/mcp.json`, as snippet text (with `$` and `}` escaped), or undefined. */
function servers(policyPath: string): string | undefined {
  const config = workspaceMcpConfig();
  if (!config || !fs.existsSync(config)) return undefined;
  try {
    const found = readClientConfig(fs.readFileSync(config, 'utf8'), config, { client: 'vscode' }).filter((server) => server.upstream && !server.wrapped);
    if (found.length === 0) return undefined;
    const sections: Record<string, unknown> = {};
    for (const server of found) sections[server.name] = { upstream: relativeToPolicy(server.upstream!, path.dirname(policyPath)) };
    return JSON.stringify(sections, null, '\t').replace(/\n/g, '\n\t').replace(/[$}\\]/g, (char) => `\\${char}`);
  } catch {
    return undefined;
  }
}
