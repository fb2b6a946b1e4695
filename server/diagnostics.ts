import { DiagnosticSeverity, DiagnosticTag, type Diagnostic } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { DiagnosticCode, type PolicyDiagnostic, type Severity } from '../core';
import type { AnalyzedPolicy } from './documents';

export const SOURCE = 'mcp-policy';

const SEVERITY: Record<Severity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  info: DiagnosticSeverity.Information,
};

/** Rules that never apply are dead text: editors grey them out. */
const UNNECESSARY = new Set<string>([DiagnosticCode.shadowedRule, DiagnosticCode.hiddenRule]);

export function toLspDiagnostic(document: Pick<TextDocument, 'positionAt'>, diagnostic: PolicyDiagnostic): Diagnostic {
  const lsp: Diagnostic = {
    range: { start: document.positionAt(diagnostic.range.offset), end: document.positionAt(diagnostic.range.offset + diagnostic.range.length) },
    severity: SEVERITY[diagnostic.severity],
    code: diagnostic.code,
    source: SOURCE,
    message: diagnostic.message,
  };
  if (UNNECESSARY.has(diagnostic.code)) lsp.tags = [DiagnosticTag.Unnecessary];
  // Code actions read the facts back (suggestion, risky tools) without re-deriving them.
  if (diagnostic.data) lsp.data = { ...diagnostic.data, path: diagnostic.path };
  return lsp;
}

const converted = new WeakMap<AnalyzedPolicy, Diagnostic[]>();

/** The LSP form of an analysis' diagnostics, converted once per analysis. */
export function lspDiagnostics(policy: AnalyzedPolicy): Diagnostic[] {
  let list = converted.get(policy);
  if (!list) {
    // The parse's line index, which the duplicate-key check and the next edit use too: one index
    // of a large policy per version instead of two.
    const lines = policy.json.text === policy.text ? policy.json.lines : policy.textDocument;
    list = policy.analysis.diagnostics.map((diagnostic) => toLspDiagnostic(lines, diagnostic));
    converted.set(policy, list);
  }
  return list;
}

/** What an editor shows when the analysis itself failed: never an empty, clean-looking list. */
export function failureDiagnostic(error: unknown): Diagnostic {
  return {
    range: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } },
    severity: DiagnosticSeverity.Error,
    code: 'check-failed',
    source: SOURCE,
    message: `this policy could not be checked (${(error as Error).message ?? String(error)}); the proxy will not start with it until it can`,
  };
}

export interface DiagnosticsHost {
  /** The current document, or undefined once it is closed. */
  document(uri: string): TextDocument | undefined;
  analyze(document: TextDocument): AnalyzedPolicy | undefined;
  publish(uri: string, version: number | undefined, diagnostics: Diagnostic[]): void;
}

/**
 * Push diagnostics: one analysis per document after typing pauses, so that fast typing in a
 * large policy does not queue an analysis per keystroke.
 */
export class DiagnosticsPusher {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Documents that have diagnostics on screen, so they can be cleared when they stop being policies. */
  private readonly shown = new Set<string>();

  constructor(private readonly host: DiagnosticsHost, private readonly delayMs = 150) {}

  schedule(uri: string): void {
    const pending = this.timers.get(uri);
    if (pending) clearTimeout(pending);
    this.timers.set(
      uri,
      setTimeout(() => {
        this.timers.delete(uri);
        this.validate(uri);
      }, this.delayMs),
    );
  }

  validate(uri: string): void {
    const document = this.host.document(uri);
    if (!document) return;
    let policy: AnalyzedPolicy | undefined;
    try {
      policy = this.host.analyze(document);
    } catch (error) {
      // An empty list would say the file is clean: say instead that it could not be checked.
      this.shown.add(uri);
      this.host.publish(uri, document.version, [failureDiagnostic(error)]);
      return;
    }
    if (!policy) {
      if (this.shown.delete(uri)) this.host.publish(uri, document.version, []);
      return;
    }
    this.shown.add(uri);
    this.host.publish(uri, document.version, lspDiagnostics(policy));
  }

  clear(uri: string): void {
    const pending = this.timers.get(uri);
    if (pending) clearTimeout(pending);
    this.timers.delete(uri);
    if (this.shown.delete(uri)) this.host.publish(uri, undefined, []);
  }

  dispose(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
