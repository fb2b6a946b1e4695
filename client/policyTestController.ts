import * as vscode from 'vscode';
import { JsonDocument } from '../core/document';
import type { TextRange } from '../core/diagnostic';
import { POLICY_FILE_GLOBS } from './config';
import { errorMessage, log } from './log';
import { POLICY_LANGUAGE } from './policyLanguage';
import { listTests } from './policyTestList';

/** How long typing must pause before the listed tests follow the edit. */
const RELIST_DELAY_MS = 300;

/**
 * The policies' tests in VS Code's Testing view: a file item per policy, an item per test at
 * its place in the file (so it gets a gutter button), run in the extension host on the text
 * the editor holds. In the extension host, not the language server: the view lists the tests
 * of policies that are not open, and a run is the same code `mcp-policy test` runs in CI.
 */
export function registerPolicyTests(): vscode.Disposable {
  const controller = vscode.tests.createTestController('mcpPolicy.policyTests', 'MCP Policy');
  const subscriptions: vscode.Disposable[] = [controller];
  const timers = new Map<string, NodeJS.Timeout>();

  const isPolicy = (document: vscode.TextDocument): boolean => document.languageId === POLICY_LANGUAGE && (document.uri.scheme === 'file' || document.uri.scheme === 'untitled');
  const openDocument = (uri: vscode.Uri): vscode.TextDocument | undefined => vscode.workspace.textDocuments.find((document) => document.uri.toString() === uri.toString());

  /** The editor's text when the file is open (unsaved edits count), else the file on disk. */
  const textOf = async (uri: vscode.Uri): Promise<string | undefined> => {
    const open = openDocument(uri);
    if (open) return open.getText();
    try {
      return new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
    } catch {
      return undefined;
    }
  };

  const list = (uri: vscode.Uri, text: string | undefined): void => {
    const key = uri.toString();
    const listed = text === undefined ? [] : listTests(text);
    if (listed.length === 0) {
      controller.items.delete(key);
      return;
    }
    let file = controller.items.get(key);
    if (!file) {
      file = controller.createTestItem(key, vscode.workspace.asRelativePath(uri), uri);
      controller.items.add(file);
    }
    const lines = new JsonDocument(text ?? '').lines;
    const toRange = (range: TextRange): vscode.Range => {
      const start = lines.positionAt(range.offset);
      const end = lines.positionAt(range.offset + range.length);
      return new vscode.Range(start.line, start.character, end.line, end.character);
    };
    const children: vscode.TestItem[] = [];
    for (const test of listed) {
      const id = `${key}#${test.name}`;
      const item = file.children.get(id) ?? controller.createTestItem(id, test.name, uri);
      item.range = toRange(test.range);
      children.push(item);
    }
    file.children.replace(children);
  };

  const relist = async (uri: vscode.Uri): Promise<void> => list(uri, await textOf(uri));

  const scheduleRelist = (uri: vscode.Uri): void => {
    const key = uri.toString();
    const pending = timers.get(key);
    if (pending) clearTimeout(pending);
    timers.set(
      key,
      setTimeout(() => {
        timers.delete(key);
        void relist(uri);
      }, RELIST_DELAY_MS),
    );
  };

  const discover = async (): Promise<void> => {
    const found = await vscode.workspace.findFiles(`{${POLICY_FILE_GLOBS.join(',')}}`, '**/node_modules/**', 200);
    const uris = new Map<string, vscode.Uri>();
    for (const uri of found) uris.set(uri.toString(), uri);
    // Files of other names that declare the policy schema are policies once opened.
    for (const document of vscode.workspace.textDocuments) if (isPolicy(document)) uris.set(document.uri.toString(), document.uri);
    await Promise.all([...uris.values()].map(relist));
  };

  controller.refreshHandler = () => discover();
  controller.resolveHandler = async (item) => {
    if (!item) await discover();
  };

  const run = async (request: vscode.TestRunRequest, token: vscode.CancellationToken): Promise<void> => {
    const testRun = controller.createTestRun(request);
    try {
      const excluded = new Set((request.exclude ?? []).map((item) => item.id));
      const byFile = new Map<string, { file: vscode.TestItem; tests: vscode.TestItem[] }>();
      const add = (item: vscode.TestItem): void => {
        if (excluded.has(item.id)) return;
        if (item.parent) {
          const entry = byFile.get(item.parent.id) ?? { file: item.parent, tests: [] };
          if (!entry.tests.includes(item)) entry.tests.push(item);
          byFile.set(item.parent.id, entry);
        } else item.children.forEach(add);
      };
      if (request.include) request.include.forEach(add);
      else controller.items.forEach(add);
      const { runTestsOfText } = await import('./policyTestRun.js');
      for (const { file, tests } of byFile.values()) {
        if (token.isCancellationRequested) break;
        const uri = file.uri!;
        const text = await textOf(uri);
        for (const test of tests) testRun.started(test);
        if (text === undefined) {
          for (const test of tests) testRun.errored(test, new vscode.TestMessage(`${uri.fsPath} cannot be read`));
          continue;
        }
        const lines = new JsonDocument(text).lines;
        const location = (range: TextRange): vscode.Location => {
          const start = lines.positionAt(range.offset);
          const end = lines.positionAt(range.offset + range.length);
          return new vscode.Location(uri, new vscode.Range(start.line, start.character, end.line, end.character));
        };
        const names = new Map(tests.map((test) => [test.label, test]));
        const result = await runTestsOfText(uri.fsPath, text, new Set(names.keys()), () => token.isCancellationRequested);
        if (result.kind === 'invalid') {
          const first = result.errors[0];
          const message = new vscode.TestMessage(`The policy has ${result.errors.length} error(s), so its tests cannot run: ${first?.message ?? 'see Problems'}`);
          if (first) message.location = location(first.range);
          for (const test of tests) testRun.errored(test, message);
          continue;
        }
        for (const [name, outcome] of result.outcomes) {
          const test = names.get(name)!;
          if (outcome.kind === 'missing') {
            testRun.skipped(test);
            continue;
          }
          for (const event of outcome.events) testRun.appendOutput(`${name}: ${event.tool} → ${event.decision} (rule ${event.rule}): ${event.reason}\r\n`, undefined, test);
          if (outcome.kind === 'passed') testRun.passed(test, outcome.ms);
          else {
            testRun.failed(
              test,
              outcome.failures.map((failure) => {
                const message = new vscode.TestMessage(failure.message);
                message.location = location(failure.range);
                return message;
              }),
              outcome.ms,
            );
          }
        }
      }
    } catch (error) {
      log().error(`Policy tests did not run: ${errorMessage(error)}`);
      testRun.appendOutput(`Policy tests did not run: ${errorMessage(error)}\r\n`);
    } finally {
      testRun.end();
    }
  };
  controller.createRunProfile('Run', vscode.TestRunProfileKind.Run, run, true);

  const watcher = vscode.workspace.createFileSystemWatcher(`{${POLICY_FILE_GLOBS.join(',')}}`);
  subscriptions.push(
    watcher,
    watcher.onDidCreate(scheduleRelist),
    watcher.onDidChange((uri) => {
      // An open file follows its editor; the disk matters again once it is closed.
      if (!openDocument(uri)?.isDirty) scheduleRelist(uri);
    }),
    watcher.onDidDelete((uri) => controller.items.delete(uri.toString())),
    vscode.workspace.onDidChangeTextDocument((change) => {
      if (isPolicy(change.document)) scheduleRelist(change.document.uri);
    }),
    vscode.workspace.onDidOpenTextDocument((document) => {
      if (isPolicy(document)) scheduleRelist(document.uri);
    }),
    // An unsaved draft's tests go back to what the file holds (untitled ones go away).
    vscode.workspace.onDidCloseTextDocument((document) => {
      if (controller.items.get(document.uri.toString())) scheduleRelist(document.uri);
    }),
    { dispose: () => timers.forEach((timer) => clearTimeout(timer)) },
  );
  void discover().catch((error: unknown) => log().warn(`Policy tests were not listed: ${errorMessage(error)}`));
  return vscode.Disposable.from(...subscriptions);
}
