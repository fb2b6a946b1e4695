import { MessageType, ShowMessageNotification, type Connection, type ServerCapabilities } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { TextDocuments } from 'vscode-languageserver/node';
import { catalogDefinition } from './catalogDefinition';
import { counterReferences, prepareCounterRename, renameCounter } from './counterNames';
import type { AnalyzedPolicy } from './documents';
import { codeLenses, evaluateAt, EVALUATE_COMMAND, parseEvaluateArguments, type EvaluateResult } from './evaluate';
import { inlayHints } from './inlayHints';
import { PolicyTestDiagnostics } from './policyTestDiagnostics';

export interface PolicyFeatureHost {
  connection: Connection;
  documents: TextDocuments<TextDocument>;
  analyze(document: TextDocument): AnalyzedPolicy | undefined;
  guard<T>(feature: string, fallback: T, run: () => T): T;
  /** Tests of a document finished: publish (push) or ask the client to pull again. */
  testsChanged(uri: string): void;
}

export const POLICY_FEATURE_CAPABILITIES: ServerCapabilities = {
  codeLensProvider: { resolveProvider: false },
  inlayHintProvider: true,
  referencesProvider: true,
  renameProvider: { prepareProvider: true },
  definitionProvider: true,
};

/** Testing, evaluation and navigation features of policies: code lens, inlay hints, counters, definitions, test diagnostics. */
export function wirePolicyFeatures(host: PolicyFeatureHost): { tests: PolicyTestDiagnostics; evaluate(args: unknown[] | undefined): Promise<EvaluateResult> } {
  const { connection, documents, guard } = host;
  const tests = new PolicyTestDiagnostics((uri) => host.testsChanged(uri));
  const withPolicy = <T>(uri: string, feature: string, fallback: T, run: (policy: AnalyzedPolicy) => T): T => {
    const document = documents.get(uri);
    if (!document) return fallback;
    return guard(feature, fallback, () => {
      const policy = host.analyze(document);
      return policy ? run(policy) : fallback;
    });
  };
  const offsetOf = (policy: AnalyzedPolicy, position: { line: number; character: number }): number => policy.textDocument.offsetAt(position);

  connection.onCodeLens((params) => withPolicy(params.textDocument.uri, 'code lens', [], codeLenses));
  connection.languages.inlayHint.on((params) => withPolicy(params.textDocument.uri, 'inlay hints', [], (policy) => inlayHints(policy, params.range)));
  connection.onReferences((params) => withPolicy(params.textDocument.uri, 'references', [], (policy) => counterReferences(policy, offsetOf(policy, params.position))));
  connection.onPrepareRename((params) => withPolicy(params.textDocument.uri, 'rename', null, (policy) => prepareCounterRename(policy, offsetOf(policy, params.position)) ?? null));
  connection.onRenameRequest((params) => withPolicy(params.textDocument.uri, 'rename', null, (policy) => renameCounter(policy, offsetOf(policy, params.position), params.newName) ?? null));
  connection.onDefinition((params) => withPolicy(params.textDocument.uri, 'definition', [], (policy) => catalogDefinition(policy, offsetOf(policy, params.position))));
  documents.onDidClose((event) => tests.forget(event.document.uri));

  async function evaluateCommand(args: unknown[] | undefined): Promise<EvaluateResult> {
    const parsed = parseEvaluateArguments(args);
    if (!parsed) return { kind: 'error', message: `${EVALUATE_COMMAND} expects (policy uri, JSON path of a rule or test)` };
    const document = documents.get(parsed.uri);
    const policy = document ? guard('evaluate', undefined, () => host.analyze(document)) : undefined;
    if (!policy) return { kind: 'error', message: `${parsed.uri} is not an open policy` };
    try {
      return await evaluateAt(policy, parsed.path);
    } catch (error) {
      connection.console.error(`evaluate failed: ${(error as Error).stack ?? String(error)}`);
      return { kind: 'error', message: (error as Error).message };
    }
  }

  return {
    tests,
    async evaluate(args) {
      const result = await evaluateCommand(args);
      // Editors that only run the lens's command (VS Code does) still show what it found; a
      // notification, not window/showMessageRequest: nothing to answer, nothing to wait for.
      void connection.sendNotification(ShowMessageNotification.type, { type: result.kind === 'error' ? MessageType.Warning : MessageType.Info, message: summarize(result) });
      return result;
    },
  };
}

/** One line for a person: the call and its decision, or the test and how it went. */
export function summarize(result: EvaluateResult): string {
  if (result.kind === 'error') return `Evaluate: ${result.message}`;
  if (result.kind === 'rule') {
    const event = result.event;
    return `Evaluate ${result.rule}: ${event.tool} on ${event.server} → ${event.decision} (rule ${event.rule}): ${event.reason}${result.note ? ` — ${result.note}` : ''}`;
  }
  if (result.passed) return `Test "${result.name}" passes: ${result.events.map((event) => event.decision).join(', ')}`;
  return `Test "${result.name}" fails: ${result.failures.map((failure) => failure.message).join('; ')}`;
}
