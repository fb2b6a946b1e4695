import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
// The server package re-exports the JSON-RPC connection and the protocol types: no extra dependency.
import {
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type ClientCapabilities,
  type Diagnostic,
  type MessageConnection,
  type Position,
  type Range,
  type TextEdit,
  type WorkspaceEdit,
} from 'vscode-languageserver/node';
import { catalogFromToolsList, type CatalogTool } from '../../core';

/** Repository root, from out/test/server. */
export const ROOT = resolve(__dirname, '..', '..', '..');

/**
 * A minimal LSP client over the spawned server's stdio: what an editor does, recorded so that
 * tests can assert on it. It keeps its own copy of each document to apply returned edits.
 */
export class LspClient {
  readonly published = new Map<string, Diagnostic[]>();
  readonly logs: Array<{ type: number; message: string }> = [];
  readonly registrations: Array<{ method: string; registerOptions: unknown }> = [];
  readonly appliedEdits: WorkspaceEdit[] = [];
  readonly texts = new Map<string, string>();
  private readonly versions = new Map<string, number>();
  private readonly waiters: Array<() => void> = [];
  stderr = '';
  exited: number | null | undefined;
  refreshes = 0;

  private constructor(readonly child: ChildProcess, readonly connection: MessageConnection) {}

  /** `entry: 'cli'` runs `node dist/cli.js lsp --stdio` as editors do; the default runs the compiled server directly. */
  static async start(options: { capabilities?: ClientCapabilities; entry?: 'server' | 'cli' } = {}): Promise<LspClient> {
    const args = options.entry === 'cli' ? [join(ROOT, 'dist', 'cli.js'), 'lsp', '--stdio'] : [join(ROOT, 'out', 'server', 'main.js'), '--stdio'];
    const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
    const client = new LspClient(child, connection);
    child.stderr!.on('data', (chunk: Buffer) => (client.stderr += chunk.toString()));
    child.on('exit', (code) => (client.exited = code));
    connection.onNotification('textDocument/publishDiagnostics', (params: { uri: string; diagnostics: Diagnostic[] }) => {
      client.published.set(params.uri, params.diagnostics);
      client.wake();
    });
    connection.onNotification('window/logMessage', (params: { type: number; message: string }) => {
      client.logs.push(params);
    });
    connection.onRequest('client/registerCapability', (params: { registrations: Array<{ method: string; registerOptions: unknown }> }) => {
      client.registrations.push(...params.registrations);
      client.wake();
      return null;
    });
    connection.onRequest('client/unregisterCapability', () => null);
    connection.onRequest('workspace/diagnostic/refresh', () => {
      client.refreshes++;
      client.wake();
      return null;
    });
    connection.onRequest('workspace/applyEdit', (params: { edit: WorkspaceEdit }) => {
      client.appliedEdits.push(params.edit);
      return { applied: true };
    });
    connection.listen();
    await connection.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: options.capabilities ?? {} });
    await connection.sendNotification('initialized', {});
    return client;
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** Resolves when `check` holds, re-checking after every notification from the server. */
  async until<T>(check: () => T | undefined, timeoutMs = 5000, what = 'condition'): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value !== undefined) return value;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((done) => {
        const timer = setTimeout(done, Math.min(left, 100));
        this.waiters.push(() => {
          clearTimeout(timer);
          done();
        });
      });
    }
  }

  open(uri: string, text: string, languageId = 'json'): void {
    this.texts.set(uri, text);
    this.versions.set(uri, 1);
    void this.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId, version: 1, text } });
  }

  /** Replaces the whole text. */
  replace(uri: string, text: string): void {
    const version = (this.versions.get(uri) ?? 0) + 1;
    this.versions.set(uri, version);
    this.texts.set(uri, text);
    void this.connection.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ text }] });
  }

  /** An incremental edit of [start, end) offsets. */
  edit(uri: string, start: number, end: number, newText: string): void {
    const text = this.text(uri);
    const range = { start: positionAt(text, start), end: positionAt(text, end) };
    const version = (this.versions.get(uri) ?? 0) + 1;
    this.versions.set(uri, version);
    this.texts.set(uri, text.slice(0, start) + newText + text.slice(end));
    void this.connection.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ range, text: newText }] });
  }

  close(uri: string): void {
    this.texts.delete(uri);
    void this.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
  }

  text(uri: string): string {
    const text = this.texts.get(uri);
    if (text === undefined) throw new Error(`${uri} is not open`);
    return text;
  }

  request<T>(method: string, params: unknown): Promise<T> {
    return this.connection.sendRequest(method, params) as Promise<T>;
  }

  async pullDiagnostics(uri: string): Promise<Diagnostic[]> {
    const report = await this.request<{ kind: string; items: Diagnostic[] }>('textDocument/diagnostic', { textDocument: { uri } });
    return report.items;
  }

  /** Applies a WorkspaceEdit (changes or documentChanges) to the open copy and sends it as one didChange. */
  applyWorkspaceEdit(edit: WorkspaceEdit): void {
    const byUri: Record<string, TextEdit[]> = { ...(edit.changes ?? {}) };
    for (const change of edit.documentChanges ?? []) {
      if ('textDocument' in change) byUri[change.textDocument.uri] = [...(byUri[change.textDocument.uri] ?? []), ...(change.edits as TextEdit[])];
    }
    for (const [uri, edits] of Object.entries(byUri)) this.replace(uri, applyTextEdits(this.text(uri), edits));
  }

  async stop(): Promise<void> {
    if (this.exited === undefined) {
      await this.connection.sendRequest('shutdown').catch(() => undefined);
      await this.connection.sendNotification('exit').catch(() => undefined);
      await new Promise<void>((done) => {
        if (this.exited !== undefined) return done();
        const timer = setTimeout(() => {
          this.child.kill();
          done();
        }, 2000);
        this.child.on('exit', () => {
          clearTimeout(timer);
          done();
        });
      });
    }
    this.connection.dispose();
  }
}

export function positionAt(text: string, offset: number): Position {
  const before = text.slice(0, offset);
  const line = before.split('\n').length - 1;
  return { line, character: offset - (before.lastIndexOf('\n') + 1) };
}

export function offsetAt(text: string, position: Position): number {
  const lines = text.split('\n');
  let offset = 0;
  for (let line = 0; line < position.line && line < lines.length; line++) offset += (lines[line]?.length ?? 0) + 1;
  return Math.min(offset + position.character, text.length);
}

/** The range of the n-th occurrence of `needle` in `text`. */
export function rangeOf(text: string, needle: string, occurrence = 0): Range {
  let at = -1;
  for (let index = 0; index <= occurrence; index++) {
    at = text.indexOf(needle, at + 1);
    if (at < 0) throw new Error(`"${needle}" not in text`);
  }
  return { start: positionAt(text, at), end: positionAt(text, at + needle.length) };
}

export function applyTextEdits(text: string, edits: readonly TextEdit[]): string {
  const sorted = edits
    .map((edit) => ({ start: offsetAt(text, edit.range.start), end: offsetAt(text, edit.range.end), newText: edit.newText }))
    .sort((a, b) => b.start - a.start);
  let result = text;
  for (const edit of sorted) result = result.slice(0, edit.start) + edit.newText + result.slice(edit.end);
  return result;
}

/** A temp folder with the recorded FluentCRM catalog as mcp-policy.catalog.json. */
export function fluentCrmWorkspace(): { folder: string; catalogPath: string; tools: CatalogTool[]; policyUri: (name?: string) => string; writePolicy: (text: string, name?: string) => string } {
  const folder = mkdtempSync(join(tmpdir(), 'mcp-policy-lsp-'));
  const recorded = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'fluentcrm.tools-list.json'), 'utf8')) as {
    serverInfo: { name: string; version: string };
    result: { tools: Array<Omit<CatalogTool, 'risk'>> };
  };
  const catalog = catalogFromToolsList('fluentcrm', recorded.result.tools, recorded.serverInfo);
  const catalogPath = join(folder, 'mcp-policy.catalog.json');
  writeFileSync(catalogPath, JSON.stringify(catalog, null, 2));
  const tools = catalog.servers.fluentcrm?.tools ?? [];
  const policyUri = (name = 'mcp-policy.json'): string => pathToFileURL(join(folder, name)).href;
  const writePolicy = (text: string, name = 'mcp-policy.json'): string => {
    writeFileSync(join(folder, name), text);
    return policyUri(name);
  };
  return { folder, catalogPath, tools, policyUri, writePolicy };
}

export const PULL: ClientCapabilities = {
  textDocument: { diagnostic: { dynamicRegistration: false }, completion: { completionItem: { snippetSupport: true } } },
  workspace: { diagnostics: { refreshSupport: true }, didChangeWatchedFiles: { dynamicRegistration: true, relativePatternSupport: true } },
};

export const PUSH: ClientCapabilities = {
  textDocument: { publishDiagnostics: {}, completion: { completionItem: { snippetSupport: false } } },
  workspace: { didChangeWatchedFiles: { dynamicRegistration: true } },
};

export function cliBuilt(): boolean {
  return existsSync(join(ROOT, 'dist', 'cli.js')) && existsSync(join(ROOT, 'dist', 'server.js'));
}
