import { readFile } from 'node:fs/promises';
import {
  CodeActionKind,
  createConnection,
  DocumentDiagnosticReportKind,
  ProposedFeatures,
  TextDocuments,
  TextDocumentSyncKind,
  type ClientCapabilities,
  type Diagnostic,
  type Connection,
  type InitializeResult,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { CatalogStore } from './catalogs';
import { codeActions, workspaceEdit } from './codeActions';
import { ALLOW_TOOL_COMMAND, allowToolEdits, parseAllowToolArguments } from './commands';
import { complete } from './completion';
import { DiagnosticsPusher, failureDiagnostic, lspDiagnostics } from './diagnostics';
import { filePathOf, PolicyDocuments } from './documents';
import { formatDocument } from './formatting';
import { hover } from './hover';
import { EVALUATE_COMMAND } from './evaluate';
import { POLICY_FEATURE_CAPABILITIES, wirePolicyFeatures } from './policyFeatures';
import { documentSymbols } from './symbols';
import { FolderWatcher } from './folderWatching';
import { CatalogWatcher } from './watching';

/** Sent by the VS Code extension after it rewrote a catalog; without `files`, every catalog is reloaded. */
export const CATALOG_CHANGED_NOTIFICATION = 'mcpPolicy/catalogChanged';

/**
 * How long a diagnostic pull after a structural edit waits, so that requests sent with it (a
 * completion, which needs only the parse) are answered before the catalog checks run.
 */
const PULL_YIELD_MS = 30;

/** Wires the LSP connection to the features; each feature lives in its own module. */
export function startServer(): void {
  const connection = createConnection(ProposedFeatures.all);
  wire(connection);
  connection.listen();
}

function wire(connection: Connection): void {
  const catalogs = new CatalogStore();
  catalogs.prepare();
  const policies = new PolicyDocuments(catalogs);
  // Edits are passed on so that typing inside a string needs no new parse of a large policy.
  const documents = new TextDocuments<TextDocument>({
    create: TextDocument.create,
    update: (document, changes, version) => {
      const previousVersion = document.version;
      const previousText = document.getText();
      const updated = TextDocument.update(document, changes, version);
      policies.noteEdit(updated.uri, previousVersion, previousText, changes, updated);
      return updated;
    },
  });
  let capabilities: ClientCapabilities = {};
  let pull = false;
  let watcher: CatalogWatcher | FolderWatcher | undefined;

  /** A feature that throws answers "nothing here" and says why in the log, instead of failing the request. */
  function guard<T>(feature: string, fallback: T, run: () => T): T {
    try {
      return run();
    } catch (error) {
      connection.console.error(`${feature} failed: ${(error as Error).stack ?? String(error)}`);
      return fallback;
    }
  }

  function analyze(document: TextDocument) {
    const policy = policies.analyze(document);
    if (policy) watcher?.update(catalogs.watchedPaths());
    if (policy) features.tests.schedule(policy);
    return policy;
  }

  const pusher = new DiagnosticsPusher({
    document: (uri) => documents.get(uri),
    analyze: (document) => {
      try {
        return analyze(document);
      } catch (error) {
        connection.console.error(`diagnostics failed: ${(error as Error).stack ?? String(error)}`);
        throw error;
      }
    },
    publish: (uri, version, diagnostics) =>
      void connection.sendDiagnostics({ uri, ...(version !== undefined ? { version } : {}), diagnostics: [...diagnostics, ...features.tests.current(uri, version)] }),
  });

  const features = wirePolicyFeatures({
    connection,
    documents,
    analyze,
    guard,
    testsChanged: (uri) => (pull ? revalidateAll() : pusher.validate(uri)),
  });

  /** After a catalog moved: pull clients are asked to pull again, push clients get fresh diagnostics. */
  function revalidateAll(): void {
    if (pull) {
      if (capabilities.workspace?.diagnostics?.refreshSupport) void connection.languages.diagnostics.refresh().catch(() => undefined);
      return;
    }
    for (const document of documents.all()) pusher.validate(document.uri);
  }

  connection.onInitialize((params): InitializeResult => {
    capabilities = params.capabilities;
    pull = capabilities.textDocument?.diagnostic !== undefined;
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        completionProvider: { triggerCharacters: ['"', ':'] },
        hoverProvider: true,
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
        documentSymbolProvider: true,
        documentFormattingProvider: true,
        documentRangeFormattingProvider: true,
        executeCommandProvider: { commands: [ALLOW_TOOL_COMMAND, EVALUATE_COMMAND] },
        ...POLICY_FEATURE_CAPABILITIES,
        ...(pull ? { diagnosticProvider: { interFileDependencies: false, workspaceDiagnostics: false } } : {}),
      },
      serverInfo: { name: 'mcp-policy' },
    };
  });

  connection.onInitialized(() => {
    if (capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration) {
      watcher = new CatalogWatcher(connection, capabilities.workspace.didChangeWatchedFiles.relativePatternSupport === true, (message) => connection.console.warn(message));
    } else {
      // The client cannot watch files for us: watch the catalogs' folders ourselves.
      watcher = new FolderWatcher(
        (files) => {
          if (catalogs.invalidate(files)) revalidateAll();
        },
        (message) => connection.console.warn(message),
      );
    }
    watcher.update(catalogs.watchedPaths());
  });

  // TextDocuments reports an open as an open and a content change: answer the open at once, debounce real edits.
  const justOpened = new Set<string>();
  documents.onDidOpen((event) => {
    justOpened.add(event.document.uri);
  });
  documents.onDidChangeContent((event) => {
    if (pull) return;
    if (justOpened.delete(event.document.uri)) pusher.validate(event.document.uri);
    else pusher.schedule(event.document.uri);
  });
  documents.onDidClose((event) => {
    justOpened.delete(event.document.uri);
    policies.forget(event.document.uri);
    if (!pull) pusher.clear(event.document.uri);
  });

  connection.languages.diagnostics.on(async (params, token) => {
    // Editors pull right after each change and ask for completions at the same moment: let a
    // request queued behind this one (a completion needs only the parse) go first, and drop a
    // pull the editor cancelled because the text moved on.
    // The answer is for the text as it was asked about, even if an edit lands while it waits.
    const current = documents.get(params.textDocument.uri);
    const asked = current && TextDocument.create(current.uri, current.languageId, current.version, current.getText());
    // Typing in a reason is parsed incrementally and cheap to check: no wait then. Nor on the
    // first pull after an open: no completion is waiting behind it.
    const firstAfterOpen = current !== undefined && justOpened.delete(current.uri);
    if (current && !firstAfterOpen && !policies.cheapToAnalyze(current)) await new Promise<void>((resolve) => setTimeout(resolve, PULL_YIELD_MS));
    if (token.isCancellationRequested) return { kind: DocumentDiagnosticReportKind.Full, items: [] };
    // Always the copy: the editor's document is updated in place, and edits can land during
    // any await below (the parse's yield too), after which it would be another version.
    const document = asked;
    if (document && !policies.hasParse(document) && guard('parse', undefined, () => policies.context(document))) {
      // The parse just made is all a completion needs: one that arrived during it is answered
      // before the checks run, not after them.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (token.isCancellationRequested) return { kind: DocumentDiagnosticReportKind.Full, items: [] };
    }
    let items: Diagnostic[] = [];
    if (document) {
      try {
        const policy = analyze(document);
        items = policy ? [...lspDiagnostics(policy), ...features.tests.current(policy.uri, policy.version)] : [];
      } catch (error) {
        connection.console.error(`diagnostics failed: ${(error as Error).stack ?? String(error)}`);
        items = [failureDiagnostic(error)];
      }
    }
    return { kind: DocumentDiagnosticReportKind.Full, items };
  });

  connection.onDidChangeWatchedFiles((params) => {
    const files = params.changes.map((change) => filePathOf(change.uri)).filter((path): path is string => path !== undefined);
    if (catalogs.invalidate(files)) revalidateAll();
  });
  connection.onNotification(CATALOG_CHANGED_NOTIFICATION, (params: unknown) => {
    const files = (params as { files?: unknown } | null)?.files;
    const paths = Array.isArray(files) ? files.filter((file): file is string => typeof file === 'string').map((file) => filePathOf(file) ?? file) : undefined;
    catalogs.invalidate(paths && paths.length > 0 ? paths : undefined);
    revalidateAll();
  });

  connection.onCompletion((params) => {
    const document = documents.get(params.textDocument.uri);
    if (!document) return null;
    return guard('completion', null, () => {
      const context = policies.context(document);
      if (!context) return null;
      return complete(context, document.offsetAt(params.position), {
        snippets: capabilities.textDocument?.completion?.completionItem?.snippetSupport === true,
        insertReplace: capabilities.textDocument?.completion?.completionItem?.insertReplaceSupport === true,
      });
    });
  });

  connection.onHover((params) => {
    const document = documents.get(params.textDocument.uri);
    if (!document) return null;
    return guard('hover', null, () => {
      const context = policies.context(document);
      return context ? hover(context, document.offsetAt(params.position)) : null;
    });
  });

  const editSettings = () => ({ documentChanges: capabilities.workspace?.workspaceEdit?.documentChanges === true });

  connection.onCodeAction((params) => {
    const document = documents.get(params.textDocument.uri);
    if (!document) return [];
    return guard('code actions', [], () => {
      const policy = analyze(document);
      if (!policy) return [];
      return codeActions(policy, document.offsetAt(params.range.start), document.offsetAt(params.range.end), editSettings());
    });
  });

  connection.onDocumentSymbol((params) => {
    const document = documents.get(params.textDocument.uri);
    if (!document) return [];
    return guard('document symbols', [], () => {
      const context = policies.context(document);
      return context ? documentSymbols(context) : [];
    });
  });

  // The formatter works token by token: on text that does not parse it would glue tokens
  // together (`"a" "b"` → `"a""b"`). Such a file is left as it is until its errors are fixed.
  const formattable = (document: TextDocument): boolean => {
    const context = policies.context(document);
    return context !== undefined && !context.json.hasParseErrors;
  };
  connection.onDocumentFormatting((params) => {
    const document = documents.get(params.textDocument.uri);
    if (!document || !formattable(document)) return [];
    return guard('formatting', [], () => formatDocument(document, params.options));
  });
  connection.onDocumentRangeFormatting((params) => {
    const document = documents.get(params.textDocument.uri);
    if (!document || !formattable(document)) return [];
    return guard('formatting', [], () => formatDocument(document, params.options, params.range));
  });

  connection.onExecuteCommand(async (params) => {
    if (params.command === EVALUATE_COMMAND) return features.evaluate(params.arguments);
    if (params.command !== ALLOW_TOOL_COMMAND) return null;
    const args = parseAllowToolArguments(params.arguments);
    if (!args) {
      connection.console.warn(`${ALLOW_TOOL_COMMAND} expects (policy uri, server or null, tool)`);
      return { applied: false };
    }
    let document = documents.get(args.uri);
    if (!document) {
      // The policy need not be open: edit the file as it is on disk.
      const path = filePathOf(args.uri);
      if (path === undefined) return { applied: false };
      try {
        document = TextDocument.create(args.uri, 'jsonc', 0, await readFile(path, 'utf8'));
      } catch (error) {
        connection.console.warn(`${ALLOW_TOOL_COMMAND}: cannot read ${path}: ${(error as Error).message}`);
        return { applied: false };
      }
    }
    const target = document;
    const edits = guard('allow tool', [], () => allowToolEdits(target, args.server, args.tool));
    if (edits.length === 0) return { applied: true, edit: null };
    const edit = workspaceEdit(target, edits, { documentChanges: editSettings().documentChanges && documents.get(args.uri) !== undefined });
    const result = await connection.workspace.applyEdit({ label: `Allow ${args.tool}`, edit });
    return { applied: result.applied, edit };
  });

  documents.listen(connection);
  connection.onShutdown(() => {
    pusher.dispose();
    if (watcher instanceof FolderWatcher) watcher.dispose();
    features.tests.dispose();
  });
}

if (require.main === module) startServer();
