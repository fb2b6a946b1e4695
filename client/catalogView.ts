import * as vscode from 'vscode';
// Single core modules, not the index: the index pulls in the engine and ajv, which activation does not need.
import { CATALOG_FILE_NAME, loadCatalog, ToolCatalog, type CatalogTool } from '../core/catalog';
import { JsonDocument } from '../core/document';
import type { RiskClass, RiskSeverity } from '../core/risk';
import { log } from './log';

export const CATALOG_VIEW_ID = 'mcpPolicy.catalog';

export type CatalogNode = { kind: 'server'; name: string; version?: string; tools: CatalogTool[] } | { kind: 'tool'; server: string; tool: CatalogTool };

const RISK_ICON: Record<RiskClass, string> = { read: 'eye', write: 'edit', destructive: 'trash', execute: 'rocket' };
const SEVERITY_COLOR: Record<RiskSeverity, string | undefined> = {
  low: undefined,
  medium: 'charts.yellow',
  high: 'charts.orange',
  critical: 'charts.red',
};

/**
 * Servers → tools of the catalog files the policy reads (those it names in `catalog` and
 * mcp-policy.catalog.json beside it), with a risk icon per tool. Reloads when the policy or
 * a catalog file changes.
 */
export class CatalogView implements vscode.TreeDataProvider<CatalogNode>, vscode.Disposable {
  private catalog = ToolCatalog.empty();
  private files: string[] = [];
  private servers: Extract<CatalogNode, { kind: 'server' }>[] = [];
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly view: vscode.TreeView<CatalogNode>;
  private readonly subscriptions: vscode.Disposable[] = [];
  private reloadTimer: NodeJS.Timeout | undefined;

  constructor(private readonly locatePolicy: () => Promise<vscode.Uri | undefined>) {
    this.view = vscode.window.createTreeView(CATALOG_VIEW_ID, { treeDataProvider: this, showCollapseAll: true });
    const watcher = vscode.workspace.createFileSystemWatcher('**/*{catalog.json,mcp-policy.json,mcp-policy.jsonc}');
    const soon = (): void => this.scheduleReload();
    this.subscriptions.push(this.view, this.changed, watcher, watcher.onDidChange(soon), watcher.onDidCreate(soon), watcher.onDidDelete(soon));
    this.scheduleReload();
  }

  /** The catalog as last loaded (for Create Policy from Catalog). */
  get current(): { catalog: ToolCatalog; files: readonly string[] } {
    return { catalog: this.catalog, files: this.files };
  }

  scheduleReload(): void {
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => void this.reload(), 150);
  }

  async reload(): Promise<void> {
    const policy = await this.locatePolicy();
    let named: string[] | undefined;
    let base: string | undefined;
    if (policy) {
      base = policy.fsPath;
      try {
        const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(policy));
        const value = new JsonDocument(text).value as { catalog?: unknown } | undefined;
        named = Array.isArray(value?.catalog) ? value.catalog.filter((entry): entry is string => typeof entry === 'string') : undefined;
      } catch {
        // an unreadable policy still has the default catalog beside it
      }
    } else {
      // No policy yet: show a catalog the workspace already has, so a policy can be created from it.
      const found = await vscode.workspace.findFiles(`**/${CATALOG_FILE_NAME}`, '**/node_modules/**', 1);
      if (found[0]) base = vscode.Uri.joinPath(found[0], '..', 'mcp-policy.json').fsPath;
    }
    if (base === undefined) {
      this.catalog = ToolCatalog.empty();
      this.files = [];
    } else {
      const loaded = loadCatalog(base, named);
      for (const problem of loaded.problems) log().warn(`Catalog ${problem.file}: ${problem.message}`);
      this.catalog = loaded.catalog;
      this.files = loaded.files;
    }
    this.servers = this.catalog.serverNames().map((name) => ({ kind: 'server', name, tools: [...this.catalog.toolsFor(name)].sort((a, b) => a.name.localeCompare(b.name)) }));
    this.view.message = this.catalog.isEmpty
      ? policy
        ? 'No tool catalog yet. Run "Refresh Tool Catalog" to ask the policy\'s servers for their tools.'
        : 'No policy in this workspace. Create .vscode/mcp-policy.json, or a policy from a catalog.'
      : undefined;
    this.changed.fire();
  }

  getChildren(node?: CatalogNode): CatalogNode[] {
    if (!node) return this.servers;
    if (node.kind === 'server') return node.tools.map((tool) => ({ kind: 'tool', server: node.name, tool }));
    return [];
  }

  getTreeItem(node: CatalogNode): vscode.TreeItem {
    if (node.kind === 'server') {
      const item = new vscode.TreeItem(node.name, vscode.TreeItemCollapsibleState.Expanded);
      item.id = `server:${node.name}`;
      item.iconPath = new vscode.ThemeIcon('server');
      item.description = `${node.tools.length} tool${node.tools.length === 1 ? '' : 's'}`;
      item.contextValue = 'catalogServer';
      return item;
    }
    const { tool } = node;
    const item = new vscode.TreeItem(tool.name, vscode.TreeItemCollapsibleState.None);
    item.id = `tool:${node.server}:${tool.name}`;
    const color = SEVERITY_COLOR[tool.risk.severity];
    item.iconPath = new vscode.ThemeIcon(RISK_ICON[tool.risk.class] ?? 'tools', color ? new vscode.ThemeColor(color) : undefined);
    item.description = `${tool.risk.class} · ${tool.risk.severity}${tool.description ? ` — ${tool.description}` : ''}`;
    const md = new vscode.MarkdownString();
    md.appendMarkdown(`**${tool.name}** on \`${node.server}\`\n\n`);
    if (tool.description) md.appendText(`${tool.description}\n\n`);
    md.appendMarkdown(`Risk: **${tool.risk.class}**, ${tool.risk.severity}. `);
    md.appendText(tool.risk.why);
    md.appendCodeblock(JSON.stringify(tool.inputSchema, null, 2), 'json');
    item.tooltip = md;
    item.contextValue = 'catalogTool';
    return item;
  }

  dispose(): void {
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    for (const d of this.subscriptions) d.dispose();
  }
}
