import * as vscode from 'vscode';
import type { DecisionEvent } from '../core';
import type { LanguageClient } from 'vscode-languageclient/node';
import { createPolicyFromCatalog } from './catalogCommands';
import { addCatalogRule, refreshToolCatalog } from './catalogRuleCommands';
import type { CatalogNode, CatalogView } from './catalogView';
import { askDecisionFilter, exportDecisions } from './decisionCommands';
import { clearDecisions } from './decisionHistory';
import { blockedOnlyFilter } from './decisionFilter';
import type { DecisionStore } from './decisionStore';
import { DECISIONS_VIEW_ID, type DecisionsView } from './decisionsView';
import type { LocalProxy } from './localProxy';
import { newPolicy } from './newPolicy';
import { errorMessage, log } from './log';
import { clientConfiguration } from './mcpProvider';
import { allowTool, goToRule } from './policyEdits';
import { locatePolicy } from './policyLocator';
import { guardServers, unguardServers } from './guardCommands';
import { inputEnvironment, supplyPolicyInputs } from './inputValues';
import type { GuardState } from './guardState';

export interface CommandDeps {
  context: vscode.ExtensionContext;
  proxy: LocalProxy;
  store: DecisionStore;
  decisions: DecisionsView;
  catalog: CatalogView;
  guard: GuardState;
  languageClient: () => LanguageClient | undefined;
}

/** Every command of the extension; each reports its own failure to the user and the log. */
export function registerCommands(deps: CommandDeps): vscode.Disposable[] {
  const { context, proxy, store, decisions, catalog } = deps;
  const policy = async (): Promise<vscode.Uri> => {
    const uri = proxy.policy ?? (await locatePolicy());
    if (!uri) throw new Error('No policy file in this workspace. Create .vscode/mcp-policy.json or set "mcpPolicy.policyFile".');
    return uri;
  };
  const guardDeps = { cliPath: context.asAbsolutePath('dist/cli.js'), secrets: context.secrets, proxy, state: deps.guard, catalog, languageClient: deps.languageClient };
  const register = (id: string, run: (...args: never[]) => unknown): vscode.Disposable =>
    vscode.commands.registerCommand(id, async (...args: never[]) => {
      try {
        return await run(...args);
      } catch (error) {
        log().error(`${id}: ${errorMessage(error)}`);
        const choice = await vscode.window.showErrorMessage(`MCP Policy: ${errorMessage(error)}`, 'Show Log');
        if (choice) log().show(true);
        return undefined;
      }
    });

  return [
    register('mcpPolicy.startProxy', async () => {
      await proxy.start();
    }),
    register('mcpPolicy.stopProxy', () => proxy.stop()),
    register('mcpPolicy.toggleProxy', () => proxy.toggle()),
    register('mcpPolicy.newPolicy', () => newPolicy()),
    register('mcpPolicy.openPolicy', async () => {
      await vscode.window.showTextDocument(await policy(), { preview: false });
    }),
    register('mcpPolicy.showDecisions', () => vscode.commands.executeCommand(`${DECISIONS_VIEW_ID}.focus`)),
    register('mcpPolicy.refreshCatalog', async () => {
      if (!vscode.workspace.isTrusted) throw new Error('Refreshing the tool catalog starts the servers the policy names: trust this workspace first.');
      const uri = await policy();
      await refreshToolCatalog(context.asAbsolutePath('dist/cli.js'), uri, inputEnvironment(await supplyPolicyInputs(context.secrets, uri)), catalog, deps.languageClient());
    }),
    register('mcpPolicy.createPolicyFromCatalog', async () => {
      await catalog.reload();
      const { catalog: tools, files } = catalog.current;
      const guardState = await deps.guard.refresh();
      await createPolicyFromCatalog(tools, files, proxy.policy ?? (await locatePolicy()), guardState.unguarded.length > 0);
    }),
    register('mcpPolicy.guardServers', () => guardServers(guardDeps)),
    register('mcpPolicy.unguardServers', () => unguardServers(guardDeps)),
    register('mcpPolicy.addRule', async (node?: CatalogNode) => addCatalogRule(await policy(), catalog, node?.kind === 'tool' ? node : undefined)),
    register('mcpPolicy.clearDecisions', () => clearDecisions(context, store)),
    register('mcpPolicy.showBlockedOnly', () => decisions.setFilter(blockedOnlyFilter())),
    register('mcpPolicy.showAllDecisions', () => decisions.setFilter(undefined)),
    register('mcpPolicy.filterDecisions', () => askDecisionFilter(decisions, store)),
    register('mcpPolicy.exportDecisions', () => exportDecisions(decisions, context.workspaceState)),
    register('mcpPolicy.copyClientConfiguration', async () => {
      const status = proxy.status;
      if (!status) {
        const choice = await vscode.window.showWarningMessage('The local proxy is off: start it to get its address and token.', 'Start Local Proxy');
        if (choice !== 'Start Local Proxy') return;
        const started = await proxy.start();
        if (!started) return;
      }
      const running = proxy.status;
      if (!running) return;
      await vscode.env.clipboard.writeText(clientConfiguration(running));
      void vscode.window.showInformationMessage(`Copied the MCP client configuration for ${running.servers.length} guarded server(s). It holds the proxy's token: keep it private.`);
    }),
    register('mcpPolicy.goToRule', async (event?: DecisionEvent) => {
      const target = event ?? decisions.selectedDecision;
      if (target) await goToRule(await policy(), target.rule);
    }),
    register('mcpPolicy.decisions.allowTool', async (event?: DecisionEvent) => {
      const target = event ?? decisions.selectedDecision;
      if (target) await allowTool(await policy(), target);
    }),
    register('mcpPolicy.copyArguments', async (event?: DecisionEvent) => {
      const target = event ?? decisions.selectedDecision;
      if (target) await vscode.env.clipboard.writeText(JSON.stringify(target.arguments ?? {}, null, 2));
    }),
  ];
}
