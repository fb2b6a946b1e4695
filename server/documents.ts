import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TextDocument, type Range, type TextDocumentContentChangeEvent } from 'vscode-languageserver-textdocument';
import { analyzeDocument, JsonDocument, SemanticCache, type PolicyAnalysis, type ToolCatalog } from '../core';
import type { CatalogStore } from './catalogs';

/** mcp-policy.json, x.mcp-policy.json, .mcp-policy.json and their .jsonc forms. */
const POLICY_NAME = /^(?:\.|.+\.)?mcp-policy\.jsonc?$/;
/** Cheap test before any parse, so that other JSON files cost nothing. */
const SCHEMA_REFERENCE = /"\$schema"\s*:\s*"[^"]*policy\.schema\.json"/;

/** One version of a policy document, parsed once and analyzed against its catalog once. */
export interface PolicyContext {
  uri: string;
  version: number;
  text: string;
  /**
   * This version's text and positions. Not the editor's live document: that one is updated in
   * place by later edits, while this context (and its analysis, converted to LSP on first use)
   * may still be read for this version.
   */
  textDocument: TextDocument;
  /** File path when the document is a file: catalogs are found beside it. */
  path: string | undefined;
  json: JsonDocument;
  catalog: ToolCatalog;
}

export interface AnalyzedPolicy extends PolicyContext {
  analysis: PolicyAnalysis;
  catalogGeneration: number;
}

export function filePathOf(uri: string): string | undefined {
  if (!uri.startsWith('file:')) return undefined;
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
}

export function isPolicyDocument(document: TextDocument): boolean {
  // The editor already decided (VS Code's `mcp-policy` language, or a user's choice).
  if (document.languageId === 'mcp-policy') return true;
  const path = filePathOf(document.uri);
  const name = path !== undefined ? basename(path) : decodeURIComponent(document.uri.slice(document.uri.lastIndexOf('/') + 1));
  if (POLICY_NAME.test(name)) return true;
  return SCHEMA_REFERENCE.test(document.getText());
}

/** The document as it is at this version; its lines, counted on first use, serve the parse too. */
function snapshotOf(document: TextDocument, json: JsonDocument): TextDocument {
  const snapshot = TextDocument.create(document.uri, document.languageId, document.version, json.text);
  json.shareLines(snapshot);
  return snapshot;
}

/** From the tree, not the value: completion parses without building the value of a large policy. */
function namedCatalogs(json: JsonDocument): string[] {
  const node = json.nodeAt(['catalog']);
  if (node?.type !== 'array') return [];
  return (node.children ?? []).flatMap((entry) => (entry.type === 'string' && typeof entry.value === 'string' && entry.value.length > 0 ? [entry.value] : []));
}

/**
 * Caches, per open document, the parse of its current version and the analysis of that
 * version against the current catalogs. Completion and hover only need the parse; diagnostics
 * and code actions need the analysis.
 */
export class PolicyDocuments {
  private readonly parsed = new Map<string, { version: number; context: PolicyContext; named: string[] }>();
  private readonly analyzed = new Map<string, AnalyzedPolicy>();
  private readonly semanticCaches = new Map<string, SemanticCache>();

  constructor(private readonly catalogs: CatalogStore) {}

  /** The parsed document, or undefined when it is not a policy. */
  context(document: TextDocument): PolicyContext | undefined {
    if (!isPolicyDocument(document)) return undefined;
    return this.parse(document).context;
  }

  analyze(document: TextDocument): AnalyzedPolicy | undefined {
    if (!isPolicyDocument(document)) return undefined;
    const cached = this.analyzed.get(document.uri);
    if (cached && cached.version === document.version && cached.catalogGeneration === this.catalogs.generation) return cached;
    const { context, named } = this.parse(document);
    const state = this.catalogs.forPolicy(context.path, named);
    let semanticCache = this.semanticCaches.get(document.uri);
    if (!semanticCache) {
      semanticCache = new SemanticCache();
      this.semanticCaches.set(document.uri, semanticCache);
    }
    const analysis = analyzeDocument(context.json, { catalog: state.catalog, catalogProblems: state.problems, semanticCache });
    const result: AnalyzedPolicy = { ...context, catalog: state.catalog, analysis, catalogGeneration: this.catalogs.generation };
    this.analyzed.set(document.uri, result);
    return result;
  }

  /**
   * Told of every edit before the new version is read: an edit inside one string value gives
   * the new version its parse from the previous one (JsonDocument.afterEdit), no new parse.
   */
  noteEdit(uri: string, previousVersion: number, previousText: string, changes: readonly TextDocumentContentChangeEvent[], updated: TextDocument): void {
    const cached = this.parsed.get(uri);
    const change = changes.length === 1 ? changes[0] : undefined;
    const range = (change as { range?: Range } | undefined)?.range;
    if (!cached || cached.version !== previousVersion || cached.context.text !== previousText || !change || !range) return;
    const lines = cached.context.json.lines;
    const offset = lines.offsetAt(range.start);
    const json = JsonDocument.afterEdit(cached.context.json, offset, lines.offsetAt(range.end) - offset, change.text);
    // The previous parse is either carried over or dropped: afterEdit may have taken its tree.
    this.parsed.delete(uri);
    if (!json || json.text !== updated.getText()) return;
    this.parsed.set(uri, { version: updated.version, named: namedCatalogs(json), context: { ...cached.context, version: updated.version, text: json.text, textDocument: snapshotOf(updated, json), json } });
  }

  /** A parse of this very version exists (an edit inside a string made it). */
  hasParse(document: TextDocument): boolean {
    return this.parsed.get(document.uri)?.version === document.version;
  }

  /**
   * This version's analysis is done or cheap: an edit inside a value of a well-formed text (a
   * reason typed) mostly leaves the meaning, so the checks are reused. A renamed key, a text
   * with errors or a parse still to make means checks to run.
   */
  cheapToAnalyze(document: TextDocument): boolean {
    const analyzed = this.analyzed.get(document.uri);
    if (analyzed?.version === document.version && analyzed.catalogGeneration === this.catalogs.generation) return true;
    const parsed = this.parsed.get(document.uri);
    return parsed?.version === document.version && parsed.context.json.likelySameMeaning;
  }

  forget(uri: string): void {
    this.parsed.delete(uri);
    this.analyzed.delete(uri);
    this.semanticCaches.delete(uri);
  }

  private parse(document: TextDocument): { context: PolicyContext; named: string[] } {
    const cached = this.parsed.get(document.uri);
    if (cached && cached.version === document.version) {
      // The catalog may have been reloaded since the parse; look it up again (a map hit).
      cached.context.catalog = this.catalogs.forPolicy(cached.context.path, cached.named).catalog;
      return cached;
    }
    const text = document.getText();
    const json = new JsonDocument(text);
    const named = namedCatalogs(json);
    const path = filePathOf(document.uri);
    const context: PolicyContext = {
      uri: document.uri,
      version: document.version,
      text,
      textDocument: snapshotOf(document, json),
      path,
      json,
      catalog: this.catalogs.forPolicy(path, named).catalog,
    };
    const entry = { version: document.version, context, named };
    this.parsed.set(document.uri, entry);
    return entry;
  }
}
