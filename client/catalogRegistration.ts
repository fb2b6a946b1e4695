import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { acceptToolChange, showToolChange } from './catalogRuleCommands';
import type { CatalogNode, CatalogView } from './catalogView';
import { errorMessage, log } from './log';

type ToolNode = Extract<CatalogNode, { kind: 'tool' }>;

/** The Tool Catalog's drift commands; each reports its own failure to the user and the log. */
export function registerCatalogCommands(deps: { catalog: CatalogView; languageClient: () => LanguageClient | undefined }): vscode.Disposable[] {
  const register = (id: string, run: (node?: ToolNode) => Promise<void>): vscode.Disposable =>
    vscode.commands.registerCommand(id, async (node?: ToolNode) => {
      try {
        await run(node ?? selectedTool(deps.catalog));
      } catch (error) {
        log().error(`${id}: ${errorMessage(error)}`);
        const choice = await vscode.window.showErrorMessage(`MCP Policy: ${errorMessage(error)}`, 'Show Log');
        if (choice) log().show(true);
      }
    });
  return [
    register('mcpPolicy.catalog.showChange', (node) => showToolChange(deps.catalog, node)),
    register('mcpPolicy.catalog.acceptChange', (node) => acceptToolChange(deps.catalog, node, deps.languageClient())),
  ];
}

function selectedTool(catalog: CatalogView): ToolNode | undefined {
  const selected = catalog.selection[0];
  return selected?.kind === 'tool' ? selected : undefined;
}
