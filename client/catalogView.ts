import * as vscode from 'vscode';
// Single core modules, not the index: the index pulls in the engine and ajv, which activation does not need.
import { CATALOG_FILE_NAME, loadCatalog, ToolCatalog, type CatalogTool } from '../core/catalog';
import { JsonDocument } from '../core/document';
import { pinnedEntry } from '../core/pinAccept';
import type { PinnedDefinition } from '../core/pinning';
import type { RiskClass, RiskSeverity } from '../core/risk';
import type { EffectiveDecision, PolicyVerdicts, ToolVerdict } from './catalogDecisions';
import type { CatalogDrifts, ReportedDrift } from './catalogDrift';
import { errorMessage, log } from './log';

/** Context key for the view's welcome content: 'noPolicy', 'noCatalog' or '' (tools shown). */
const CATALOG_EMPTY_KEY = 'mcpPolicy.catalog.empty';

export const CATALOG_VIEW_ID = 'mcpPolicy.catalog';

export type CatalogNode = { kind: 'server'; name: string; version?: string; tools: CatalogTool[] } | { kind: 'tool'; server: string; tool: CatalogTool };

const RISK_ICON: Record<RiskClass, string> = { read: 'eye', write: 'edit', destructive: 'trash', execute: 'rocket' };
const SEVERITY_COLOR: Record<RiskSeverity, string | undefined> = {
  low: undefined,
  medium: 'charts.yellow',
  high: 'charts.orange',
  critical: 'charts.red',
};

/** The icon says how the policy treats the tool; the description keeps the risk class. */
const DECISION_LOOK: Record<EffectiveDecision, { icon: string; color: string; label: string }> = {
  hidden: { icon: 'eye-closed', color: 'disabledForeground', label: 'Hidden' },
  denied: { icon: 'circle-slash', color: 'errorForeground', label: 'Denied' },
  approve: { icon: 'person', color: 'editorWarning.foreground', label: 'Needs approval' },
  limited: { icon: 'watch', color: 'charts.blue', label: 'Limited' },
  allowed: { icon: 'pass', color: 'testing.iconPassed', label: 'Allowed' },
};

const DRIFT_WORDS: Record<ReportedDrift['kind'], string> = { changed: 'changed since pinned', unpinned: 'not pinned', unknown: 'definition unknown', removed: 'no longer listed' };

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
  /** Which catalog files were read, and whether they must be read again (a file changed on disk). */
  private catalogKey: string | undefined;
  private catalogStale = true;
  private verdicts: PolicyVerdicts | undefined;
  private policyUri: vscode.Uri | undefined;

  constructor(
    private readonly locatePolicy: () => Promise<vscode.Uri | undefined>,
    /** Drifts the local proxy reported; none when the view runs without it. */
    readonly drifts?: CatalogDrifts,
  ) {
    this.view = vscode.window.createTreeView(CATALOG_VIEW_ID, { treeDataProvider: this, showCollapseAll: true });
    const watcher = vscode.workspace.createFileSystemWatcher('**/*{catalog.json,mcp-policy.json,mcp-policy.jsonc}');
    const soon = (): void => this.scheduleReload();
    this.subscriptions.push(this.view, this.changed, watcher, watcher.onDidChange(soon), watcher.onDidCreate(soon), watcher.onDidDelete(soon));
    // An edit of the policy not saved yet is what the user is deciding: show its effect too.
    this.subscriptions.push(
      vscode.workspace.onDidChangeTextDocument((change) => {
        // Typing in the policy changes the decisions, not the catalog files: they are read again
        // only if the policy names other ones (or a watcher says one changed).
        if (this.policyUri && change.document.uri.toString() === this.policyUri.toString()) this.scheduleReload({ catalogFiles: false });
      }),
    );
    if (drifts) this.subscriptions.push(drifts.onDidChangeDrifts(() => this.rebuild()));
    this.scheduleReload();
  }

  get selection(): readonly CatalogNode[] {
    return this.view.selection;
  }

  /** The policy the verdicts are of. */
  get policy(): vscode.Uri | undefined {
    return this.policyUri;
  }

  /** How the policy as last read decides the tool, or undefined without a policy. */
  verdict(server: string, tool: string): ToolVerdict | undefined {
    return this.verdicts?.verdict(server, tool);
  }

  /** The catalog as last loaded (for Create Policy from Catalog). */
  get current(): { catalog: ToolCatalog; files: readonly string[] } {
    return { catalog: this.catalog, files: this.files };
  }

  scheduleReload(options: { catalogFiles?: boolean } = {}): void {
    if (options.catalogFiles !== false) this.catalogStale = true;
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => void this.load(), 150);
  }

  /** Reads the policy and its catalog files again, now. */
  async reload(): Promise<void> {
    this.catalogStale = true;
    await this.load();
  }

  private async load(): Promise<void> {
    const policy = await this.locatePolicy();
    this.policyUri = policy;
    let named: string[] | undefined;
    let base: string | undefined;
    let policyText: string | undefined;
    if (policy) {
      base = policy.fsPath;
      try {
        const open = vscode.workspace.textDocuments.find((document) => document.uri.toString() === policy.toString());
        const text = open?.getText() ?? new TextDecoder().decode(await vscode.workspace.fs.readFile(policy));
        policyText = text;
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
    const catalogKey = JSON.stringify([base ?? null, named ?? null]);
    if (this.catalogStale || catalogKey !== this.catalogKey) {
      this.catalogStale = false;
      this.catalogKey = catalogKey;
      if (base === undefined) {
        this.catalog = ToolCatalog.empty();
        this.files = [];
      } else {
        const loaded = loadCatalog(base, named);
        for (const problem of loaded.problems) log().warn(`Catalog ${problem.file}: ${problem.message}`);
        this.catalog = loaded.catalog;
        this.files = loaded.files;
      }
    }
    this.verdicts = undefined;
    if (policyText !== undefined) {
      try {
        // Loaded on first use: the engine's modules (ajv) are not needed to show the view.
        const { policyVerdicts } = await import('./catalogDecisions.js');
        this.verdicts = policyVerdicts(policyText, this.catalog);
      } catch (error) {
        log().warn(`Tool Catalog: the policy's decisions could not be computed: ${errorMessage(error)}`);
      }
    }
    this.drifts?.setCatalog(this.catalog);
    this.rebuild();
  }

  /** Servers and tools: the catalog's, plus tools the proxy saw that the catalog lacks (unpinned). */
  private rebuild(): void {
    const names = new Set(this.catalog.serverNames());
    for (const drift of this.drifts?.all() ?? []) names.add(drift.server);
    this.servers = [...names].map((name) => {
      const tools = [...this.catalog.toolsFor(name)];
      if (!this.catalog.hasServer(name)) tools.length = 0;
      for (const drift of this.drifts?.all() ?? []) {
        if (drift.server !== name || !drift.definition || this.catalog.pinned(name, drift.tool)) continue;
        tools.push(pinnedEntry(drift.definition as PinnedDefinition & Record<string, unknown>));
      }
      return { kind: 'server' as const, name, tools: tools.sort((a, b) => a.name.localeCompare(b.name)) };
    });
    const policy = this.policyUri;
    // An empty view shows the welcome content of package.json, whose buttons fit the case.
    const empty = this.servers.length === 0 ? (policy ? 'noCatalog' : 'noPolicy') : '';
    void vscode.commands.executeCommand('setContext', CATALOG_EMPTY_KEY, empty);
    this.view.message = this.servers.length === 0 ? undefined : this.verdicts?.problem;
    const drifted = this.drifts?.all().length ?? 0;
    this.view.badge = drifted > 0 ? { value: drifted, tooltip: `${drifted} tool${drifted === 1 ? '' : 's'} changed since pinned` } : undefined;
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
    const drift = this.drifts?.get(node.server, tool.name);
    let verdict = this.verdicts?.verdict(node.server, tool.name);
    const pinning = this.verdicts?.pinning(node.server);
    if (drift && pinning && verdict && verdict.effect !== 'hidden') {
      verdict = { effect: 'denied', rule: pinning, reason: `${drift.reason}; pinning hides and denies it until the change is accepted`, limits: [] };
    }
    const risk = `${tool.risk.class} · ${tool.risk.severity}`;
    const look = verdict ? DECISION_LOOK[verdict.effect] : undefined;
    if (drift) {
      item.iconPath = new vscode.ThemeIcon('diff', new vscode.ThemeColor('editorWarning.foreground'));
    } else if (look) {
      item.iconPath = new vscode.ThemeIcon(look.icon, new vscode.ThemeColor(look.color));
    } else {
      const color = SEVERITY_COLOR[tool.risk.severity];
      item.iconPath = new vscode.ThemeIcon(RISK_ICON[tool.risk.class] ?? 'tools', color ? new vscode.ThemeColor(color) : undefined);
    }
    const decision = look ? `${look.label.toLowerCase()}${verdict?.effect === 'limited' || (verdict?.effect === 'approve' && verdict.limits.length > 0) ? ` (${verdict.limits.join(', ')})` : ''}` : undefined;
    const driftText = drift ? `${DRIFT_WORDS[drift.kind]}${drift.changes.length > 0 ? `: ${drift.changes.join(', ')}` : ''}` : undefined;
    item.description = [driftText, decision, risk].filter(Boolean).join(' · ') + (tool.description ? ` — ${tool.description}` : '');
    const md = new vscode.MarkdownString();
    md.appendMarkdown(`**${escapeMarkdown(tool.name)}** on \`${escapeCode(node.server)}\`\n\n`);
    if (drift) {
      md.appendMarkdown(`$(diff) **${DRIFT_WORDS[drift.kind]}**: `);
      md.appendText(`${drift.reason}\n\n`);
      md.supportThemeIcons = true;
    }
    if (verdict && look) {
      md.appendMarkdown(`**${look.label}** by \`${escapeCode(verdict.rule)}\`: `);
      md.appendText(`${verdict.reason}\n\n`);
    }
    if (tool.description) md.appendText(`${tool.description}\n\n`);
    md.appendMarkdown(`Risk: **${tool.risk.class}**, ${tool.risk.severity}. `);
    md.appendText(tool.risk.why);
    md.appendCodeblock(JSON.stringify(tool.inputSchema, null, 2), 'json');
    item.tooltip = md;
    item.contextValue = drift ? 'catalogToolDrifted' : 'catalogTool';
    item.accessibilityInformation = { label: [`${tool.name} on ${node.server}`, look && verdict ? `${look.label} by ${verdict.rule}` : undefined, driftText].filter(Boolean).join(', ') };
    if (drift) item.command = { command: 'mcpPolicy.catalog.showChange', title: 'Show Change', arguments: [node] };
    return item;
  }

  dispose(): void {
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    for (const d of this.subscriptions) d.dispose();
  }
}

function escapeCode(text: string): string {
  return text.replace(/`/g, "'");
}

function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}
