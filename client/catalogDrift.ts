import * as vscode from 'vscode';
import type { CatalogTool, ToolCatalog } from '../core/catalog';
import type { PinnedDefinition, ToolDrift } from '../core/pinning';

/** A drift as the local proxy reports it: enforced when pinning is on for the server. */
export type ReportedDrift = ToolDrift & { enforced: boolean };

/** Virtual documents of the pinned and the live definition, for vscode.diff. */
export const PIN_SCHEME = 'mcp-policy-pin';

const key = (server: string, tool: string): string => JSON.stringify([server, tool]);

/** JSON with object keys sorted, so a diff shows what changed and not the order keys came in. */
function sortedJson(value: unknown): string {
  const sort = (inner: unknown): unknown => {
    if (Array.isArray(inner)) return inner.map(sort);
    if (inner !== null && typeof inner === 'object') {
      return Object.fromEntries(Object.entries(inner as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => [k, sort(v)]));
    }
    return inner;
  };
  return `${JSON.stringify(sort(value), null, 2)}\n`;
}

/** The pinned parts of a definition: what the digest covers. */
function pinnedParts(definition: PinnedDefinition | CatalogTool): Record<string, unknown> {
  return { name: definition.name, description: definition.description, inputSchema: definition.inputSchema, annotations: definition.annotations };
}

/**
 * The drifts the local proxy has seen, by (server, tool), until the catalog pins the live
 * definition again (Accept Change, or a refreshed catalog). Serves the two sides of the diff.
 */
export class CatalogDrifts implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly drifts = new Map<string, ReportedDrift>();
  private catalog: ToolCatalog | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  /** Drifts were added or settled. */
  readonly onDidChangeDrifts = this.changed.event;
  private readonly documentChanged = new vscode.EventEmitter<vscode.Uri>();
  /** A side of a diff changed (TextDocumentContentProvider). */
  readonly onDidChange = this.documentChanged.event;
  private readonly registration = vscode.workspace.registerTextDocumentContentProvider(PIN_SCHEME, this);

  add(drift: ReportedDrift): void {
    // A change the catalog already pins (accepted meanwhile) is no drift.
    const pinned = this.catalog?.pinned(drift.server, drift.tool);
    if (pinned && drift.live !== undefined && pinned.digest === drift.live) return;
    this.drifts.set(key(drift.server, drift.tool), drift);
    this.fireDocuments(drift.server, drift.tool);
    this.changed.fire();
  }

  get(server: string, tool: string): ReportedDrift | undefined {
    return this.drifts.get(key(server, tool));
  }

  all(): ReportedDrift[] {
    return [...this.drifts.values()];
  }

  /** The catalog was reloaded: drifts whose live definition it now pins are settled. */
  setCatalog(catalog: ToolCatalog): void {
    this.catalog = catalog;
    let settled = false;
    for (const [id, drift] of this.drifts) {
      const pinned = catalog.pinned(drift.server, drift.tool);
      if (pinned && drift.live !== undefined && (pinned.digest ?? '') === drift.live) {
        this.drifts.delete(id);
        settled = true;
      }
    }
    for (const drift of this.drifts.values()) this.fireDocuments(drift.server, drift.tool);
    if (settled) this.changed.fire();
  }

  forget(server: string, tool: string): void {
    if (this.drifts.delete(key(server, tool))) this.changed.fire();
  }

  uris(server: string, tool: string): { pinned: vscode.Uri; live: vscode.Uri } {
    const base = `/${encodeURIComponent(server)}/${encodeURIComponent(tool)}`;
    return { pinned: vscode.Uri.from({ scheme: PIN_SCHEME, path: `${base}.pinned.json` }), live: vscode.Uri.from({ scheme: PIN_SCHEME, path: `${base}.live.json` }) };
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    const match = /^\/([^/]+)\/([^/]+)\.(pinned|live)\.json$/.exec(uri.path);
    if (!match) return '';
    const server = decodeURIComponent(match[1]!);
    const tool = decodeURIComponent(match[2]!);
    if (match[3] === 'pinned') {
      const pinned = this.catalog?.pinned(server, tool);
      return pinned ? sortedJson(pinnedParts(pinned)) : `// ${tool} is not in the catalog of server "${server}": nothing was pinned\n`;
    }
    const live = this.get(server, tool)?.definition;
    return live ? sortedJson(pinnedParts(live)) : `// The server's current definition of ${tool} is not known\n`;
  }

  private fireDocuments(server: string, tool: string): void {
    const { pinned, live } = this.uris(server, tool);
    this.documentChanged.fire(pinned);
    this.documentChanged.fire(live);
  }

  dispose(): void {
    this.registration.dispose();
    this.changed.dispose();
    this.documentChanged.dispose();
  }
}
