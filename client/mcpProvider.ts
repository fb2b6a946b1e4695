import * as vscode from 'vscode';
import type { ProxyHostStatus } from '../proxy/host';
import type { LocalProxy } from './localProxy';
import { log } from './log';

/** Must match `contributes.mcpServerDefinitionProviders[].id` in package.json. */
export const MCP_PROVIDER_ID = 'mcpPolicy.guardedServers';

/**
 * Offers each server the local proxy guards to VS Code's own agent, as an HTTP server that
 * carries the proxy's bearer token; the list changes as the proxy starts, stops or reloads.
 */
export function registerMcpProvider(proxy: LocalProxy): vscode.Disposable {
  const lm = vscode.lm as Partial<typeof vscode.lm> | undefined;
  if (typeof lm?.registerMcpServerDefinitionProvider !== 'function' || typeof vscode.McpHttpServerDefinition !== 'function') {
    // Editors before VS Code 1.101 have no MCP API: other clients can still use Copy Client Configuration.
    log().info('This editor has no MCP server definition API; guarded servers are not offered to its agent.');
    return new vscode.Disposable(() => undefined);
  }
  const changed = new vscode.EventEmitter<void>();
  let last = '';
  const onProxy = proxy.onDidChange(() => {
    const key = fingerprint(proxy.status);
    if (key === last) return;
    last = key;
    changed.fire();
  });
  const provider: vscode.McpServerDefinitionProvider<vscode.McpHttpServerDefinition> = {
    onDidChangeMcpServerDefinitions: changed.event,
    provideMcpServerDefinitions: () => definitions(proxy.status),
    resolveMcpServerDefinition: (server) => {
      // VS Code may try a definition it cached after the proxy stopped: refuse rather than fail to connect.
      if (!proxy.running) {
        void vscode.window.showWarningMessage(`${server.label} is guarded by MCP Policy: start the local proxy first.`);
        return undefined;
      }
      return server;
    },
  };
  const registration = lm.registerMcpServerDefinitionProvider(MCP_PROVIDER_ID, provider);
  return vscode.Disposable.from(registration, onProxy, changed);
}

function definitions(status: ProxyHostStatus | undefined): vscode.McpHttpServerDefinition[] {
  if (!status) return [];
  return status.servers.map(
    (server) =>
      new vscode.McpHttpServerDefinition(
        `${server.name} (guarded by MCP Policy)`,
        vscode.Uri.parse(server.url),
        { Authorization: `Bearer ${status.token}` },
        // A new port or token is a new definition: VS Code reconnects instead of reusing a dead session.
        `${status.port}-${status.token.slice(0, 8)}`,
      ),
  );
}

function fingerprint(status: ProxyHostStatus | undefined): string {
  if (!status) return '';
  return `${status.port}|${status.token}|${status.servers.map((s) => `${s.name}=${s.url}`).join(',')}`;
}

/** A snippet for other MCP clients (Claude Code, Cursor, … `mcpServers` format). */
export function clientConfiguration(status: ProxyHostStatus): string {
  const servers: Record<string, { type: 'http'; url: string; headers: Record<string, string> }> = {};
  for (const server of status.servers) {
    servers[server.name] = { type: 'http', url: server.url, headers: { Authorization: `Bearer ${status.token}` } };
  }
  return JSON.stringify({ mcpServers: servers }, null, 2);
}
