import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { LANGUAGE_SERVER_NODE_FLAGS } from '../core/serverProcess';
import { POLICY_LANGUAGE } from './policyLanguage';

/** The client id: also the settings prefix the client reads its trace level from (`mcpPolicy.trace.server`). */
const CLIENT_ID = 'mcpPolicy';

/**
 * Starts the bundled language server (dist/server.js) over IPC for policy files. It runs in
 * untrusted workspaces too: it only reads the policy and its catalogs, it never runs what a
 * policy names.
 */
export function createLanguageClient(context: vscode.ExtensionContext): LanguageClient {
  const module = context.asAbsolutePath('dist/server.js');
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc, options: { execArgv: [...LANGUAGE_SERVER_NODE_FLAGS] } },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: [...LANGUAGE_SERVER_NODE_FLAGS, '--nolazy', '--inspect=6019'] } },
  };
  // Only the policy language: VS Code's JSON tooling keeps every other JSON file to itself.
  const documentSelector = [
    { scheme: 'file', language: POLICY_LANGUAGE },
    { scheme: 'untitled', language: POLICY_LANGUAGE },
  ];
  const clientOptions: LanguageClientOptions = {
    documentSelector,
    outputChannel: vscode.window.createOutputChannel('MCP Policy Language Server', { log: true }),
    synchronize: {
      // Diagnostics depend on the catalogs beside the policy: let the server re-validate when they change.
      fileEvents: vscode.workspace.createFileSystemWatcher('**/*catalog.json'),
    },
  };
  return new LanguageClient(CLIENT_ID, 'MCP Policy Language Server', serverOptions, clientOptions);
}
