import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import type { ServerCpuResult } from './serverCpu';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type CompletionList, type Diagnostic, type MessageConnection } from 'vscode-languageserver/node';
import { catalogFromToolsList, type CatalogFile } from '../core';
import { catalogFileText } from '../core/catalogText';
import { LANGUAGE_SERVER_NODE_FLAGS } from '../core/serverProcess';

const ROOT = resolve(__dirname, '..', '..');
const TOOLS = 10_000;
const SERVERS = 10;
const RULES = 5_000;
const EDITS = 50;
const COMPLETIONS = 300;
const TYPING_ROUNDS = 5;
/** Fresh servers whose first open is timed: one open is one sample, and wall time on a small machine swings with the load. */
const COLD_OPENS = 5;

const VERBS = ['list', 'get', 'search', 'create', 'update', 'delete', 'send', 'resume', 'archive', 'run'];
const OBJECTS = ['contact', 'campaign', 'tag', 'list', 'invoice', 'ticket', 'order', 'file', 'user', 'report'];

function toolName(index: number): { server: string; name: string } {
  const server = `svc${index % SERVERS}`;
  const verb = VERBS[Math.floor(index / SERVERS) % VERBS.length]!;
  const object = OBJECTS[Math.floor(index / (SERVERS * VERBS.length)) % OBJECTS.length]!;
  return { server, name: `${server}_${verb}_${object}_${Math.floor(index / (SERVERS * VERBS.length * OBJECTS.length))}` };
}

export function buildCatalog(): CatalogFile {
  const byServer = new Map<string, Array<{ name: string; description: string; inputSchema: Record<string, unknown> }>>();
  for (let index = 0; index < TOOLS; index++) {
    const { server, name } = toolName(index);
    const tools = byServer.get(server) ?? [];
    tools.push({
      name,
      description: `Benchmark tool ${index}`,
      inputSchema: { type: 'object', properties: { id: { type: 'integer', description: 'Record id' }, note: { type: 'string' }, dryRun: { type: 'boolean' } }, required: ['id'] },
    });
    byServer.set(server, tools);
  }
  const catalog: CatalogFile = { version: '1', servers: {} };
  for (const [server, tools] of byServer) Object.assign(catalog.servers, catalogFromToolsList(server, tools).servers);
  return catalog;
}

/**
 * 5,000 rules as a large real policy has them: exact tool names (some with limits, argument
 * checks, approve or deny), a glob every 50 rules, a few typos, and a section for server svc0.
 */
export function buildPolicy(): string {
  const top: string[] = [];
  const perServer: string[] = [];
  for (let rule = 0; rule < RULES; rule++) {
    // Even indexes for top-level rules; svc0's own tools (index % 10 === 0) for its section.
    const ownServer = rule % 10 === 9;
    const index = ownServer ? Math.floor(rule / 10) * SERVERS : rule * 2 + 1;
    const { server, name } = toolName(index);
    if (rule % 50 === 0) {
      top.push(`    ${JSON.stringify(`${name.slice(0, name.lastIndexOf('_'))}_*`)}: { "action": "deny" }`);
      continue;
    }
    const key = rule % 500 === 7 ? name.replace('_', '') : name;
    let body = '{}';
    if (rule % 5 === 1) body = `{ "action": "approve", "reason": "rule ${rule}" }`;
    else if (rule % 5 === 2) body = `{ "limits": [{ "counter": "shared_${rule % 40}", "window": "minute", "max": 10, "scope": "grant" }] }`;
    else if (rule % 5 === 3) body = `{ "validate_input": true, "arguments": { "properties": { "id": { "type": "integer", "minimum": ${1 + (rule % 7)} } }, "required": ["id"] } }`;
    else if (rule % 5 === 4) body = '{ "action": "deny" }';
    if (ownServer && server === 'svc0') perServer.push(`        ${JSON.stringify(key)}: ${body}`);
    else top.push(`    ${JSON.stringify(key)}: ${body}`);
  }
  return `{
  "version": "1",
  "default": "deny",
  "hide": ["*_purge_*"],
  "all_tools": { "limits": [{ "counter": "all", "window": "minute", "max": 1000 }] },
  "tools": {
${top.join(',\n')}
  },
  "servers": {
    "svc0": {
      "default": "deny",
      "tools": {
${perServer.join(',\n')}
      }
    }
  }
}
`;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function rssMb(pid: number): string {
  try {
    const kb = Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim());
    return `${(kb / 1024).toFixed(0)} MB`;
  } catch {
    return 'n/a';
  }
}

function positionAt(text: string, offset: number): { line: number; character: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length - 1;
  return { line, character: offset - (before.lastIndexOf('\n') + 1) };
}

/** The same steps in a fresh process, as CPU time (process.cpuUsage): what the server itself spends, whatever the load. */
function cpuRows(folder: string, typed: string): Array<[string, string, string]> {
  const output = execFileSync(process.execPath, [...LANGUAGE_SERVER_NODE_FLAGS, join(__dirname, 'serverCpu.js'), folder, typed], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const result = JSON.parse(output) as ServerCpuResult;
  const p = (samples: number[], at: number): string => percentile([...samples].sort((a, b) => a - b), at).toFixed(1);
  return [
    [
      'CPU: cold open (catalog read + first analysis, fresh process): server thread / all threads (V8 helpers compiling and collecting too)',
      `${result.coldOpenThreadMs?.toFixed(0) ?? 'n/a'} / ${result.coldOpenMs.toFixed(0)} ms`,
      '',
    ],
    [`CPU: diagnostics after a one-character edit in a reason (p50 / p95 of ${result.reasonEditMs.length})`, `${p(result.reasonEditMs, 50)} / ${p(result.reasonEditMs, 95)} ms`, '≤ 50 ms'],
    [`CPU: completion while typing a rule key, parse included (p50 / p95 of ${result.completionMs.length})`, `${p(result.completionMs, 50)} / ${p(result.completionMs, 95)} ms`, 'p95 ≤ 50 ms'],
    [`CPU: the diagnostic pull after each of those keystrokes (p50 / p95)`, `${p(result.analysisMs, 50)} / ${p(result.analysisMs, 95)} ms`, ''],
    [`CPU: diagnostics after a finished edit to one rule (p50 / p95 of ${result.ruleEditMs.length})`, `${p(result.ruleEditMs, 50)} / ${p(result.ruleEditMs, 95)} ms`, '≤ 50 ms'],
  ];
}

/** A server spawned as `mcp-policy lsp --stdio` runs it, initialized. */
async function startServer(entry: string): Promise<{ child: ChildProcess; connection: MessageConnection }> {
  const child = spawn(process.execPath, [...LANGUAGE_SERVER_NODE_FLAGS, entry, '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  connection.onRequest('client/registerCapability', () => null);
  connection.onNotification('window/logMessage', () => undefined);
  connection.listen();
  await connection.sendRequest('initialize', {
    processId: process.pid,
    rootUri: null,
    capabilities: { textDocument: { diagnostic: {}, completion: { completionItem: { snippetSupport: true } } } },
  });
  await connection.sendNotification('initialized', {});
  return { child, connection };
}

/** didOpen → the first diagnostic pull answered, in a fresh server, in ms. */
async function coldOpenMs(entry: string, uri: string, text: string): Promise<number> {
  const { child, connection } = await startServer(entry);
  try {
    const started = performance.now();
    await connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'json', version: 1, text } });
    await connection.sendRequest('textDocument/diagnostic', { textDocument: { uri } });
    const ms = performance.now() - started;
    await connection.sendRequest('shutdown');
    await connection.sendNotification('exit');
    return ms;
  } finally {
    connection.dispose();
    child.kill();
  }
}

/** Speaks LSP to the spawned server (as `mcp-policy lsp --stdio` runs it) and times what an editor waits for. */
export async function benchLanguageServer(): Promise<string> {
  const loadBefore = loadavg()[0] ?? 0;
  const folder = mkdtempSync(join(tmpdir(), 'mcp-policy-bench-lsp-'));
  const entry = [join(ROOT, 'dist', 'server.js'), join(ROOT, 'out', 'server', 'main.js')].find((path) => existsSync(path));
  if (!entry) throw new Error('the language server is not built');
  // Written as `mcp-policy catalog` writes it (sealed, catalogSeal.ts).
  writeFileSync(join(folder, 'mcp-policy.catalog.json'), catalogFileText(buildCatalog()));
  const openedText = buildPolicy();
  let text = openedText;
  const policyPath = join(folder, 'mcp-policy.json');
  writeFileSync(policyPath, text);
  const uri = pathToFileURL(policyPath).href;

  const { child, connection } = await startServer(entry);
  const rows: Array<[string, string, string]> = [];
  try {
    const pull = async (): Promise<Diagnostic[]> => ((await connection.sendRequest('textDocument/diagnostic', { textDocument: { uri } })) as { items: Diagnostic[] }).items;

    let started = performance.now();
    await connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'json', version: 1, text } });
    const first = await pull();
    const coldOpens = [performance.now() - started];
    const coldRow = rows.push(['', '', '≤ 300 ms']) - 1;

    started = performance.now();
    await connection.sendNotification('mcpPolicy/catalogChanged', {});
    await pull();
    rows.push(['full diagnostics after the catalog is reloaded (warm)', `${(performance.now() - started).toFixed(0)} ms`, '≤ 300 ms']);

    // One character typed into a reason string, then the diagnostics an editor pulls for it.
    const editTimes: number[] = [];
    let version = 1;
    const anchor = text.indexOf('"reason": "rule ') + '"reason": "rule '.length;
    for (let edit = 0; edit < EDITS; edit++) {
      const position = positionAt(text, anchor);
      text = text.slice(0, anchor) + 'x' + text.slice(anchor);
      started = performance.now();
      await connection.sendNotification('textDocument/didChange', {
        textDocument: { uri, version: ++version },
        contentChanges: [{ range: { start: position, end: position }, text: 'x' }],
      });
      await pull();
      editTimes.push(performance.now() - started);
    }
    editTimes.sort((a, b) => a - b);
    rows.push([`diagnostics after a one-character edit (p50 / p95 of ${EDITS})`, `${percentile(editTimes, 50).toFixed(1)} / ${percentile(editTimes, 95).toFixed(1)} ms`, '≤ 50 ms']);

    // Completions where people ask for them: inside rule keys (tool names), action values, rule bodies.
    const keyOffsets: number[] = [];
    for (let at = text.indexOf('"svc'); at >= 0 && keyOffsets.length < COMPLETIONS; at = text.indexOf('"svc', at + 4000)) keyOffsets.push(at + 8);
    const actionOffsets: number[] = [];
    for (let at = text.indexOf('"action": "'); at >= 0 && actionOffsets.length < COMPLETIONS / 3; at = text.indexOf('"action": "', at + 3000)) actionOffsets.push(at + 11);
    const offsets = [...keyOffsets, ...actionOffsets];
    const completionTimes: number[] = [];
    let items = 0;
    for (const offset of offsets) {
      started = performance.now();
      const result = (await connection.sendRequest('textDocument/completion', { textDocument: { uri }, position: positionAt(text, offset) })) as CompletionList | null;
      completionTimes.push(performance.now() - started);
      items += result?.items.length ?? 0;
    }
    completionTimes.sort((a, b) => a - b);
    rows.push([`completion (${offsets.length} requests, ${Math.round(items / offsets.length)} items on average) p50 / p95`, `${percentile(completionTimes, 50).toFixed(1)} / ${percentile(completionTimes, 95).toFixed(1)} ms`, 'p95 ≤ 20 ms']);

    // Typing a new rule key character by character, as an editor does it: each keystroke is a
    // didChange, a diagnostic pull the editor starts at once (not awaited) and a completion request.
    const typed = '"svc3_get_contact_9';
    const at = text.indexOf('"tools": {\n') + '"tools": {\n'.length;
    let typing = text.slice(0, at) + '    ' + text.slice(at);
    await connection.sendNotification('textDocument/didChange', { textDocument: { uri, version: ++version }, contentChanges: [{ text: typing }] });
    await pull();
    const typingTimes: number[] = [];
    let typingItems = 0;
    for (let round = 0; round < TYPING_ROUNDS; round++) {
      for (let index = 0; index < typed.length; index++) {
        const offset = at + 4 + index;
        const position = positionAt(typing, offset);
        typing = typing.slice(0, offset) + typed.charAt(index) + typing.slice(offset);
        await connection.sendNotification('textDocument/didChange', {
          textDocument: { uri, version: ++version },
          contentChanges: [{ range: { start: position, end: position }, text: typed.charAt(index) }],
        });
        const pending = pull().catch(() => []);
        started = performance.now();
        const result = (await connection.sendRequest('textDocument/completion', { textDocument: { uri }, position: positionAt(typing, offset + 1) })) as CompletionList | null;
        typingTimes.push(performance.now() - started);
        typingItems += result?.items.length ?? 0;
        await pending;
      }
      // Back to the start of the key for the next round.
      const end = at + 4 + typed.length;
      typing = typing.slice(0, at + 4) + typing.slice(end);
      await connection.sendNotification('textDocument/didChange', { textDocument: { uri, version: ++version }, contentChanges: [{ text: typing }] });
      await pull();
    }
    typingTimes.sort((a, b) => a - b);
    rows.push([
      `completion while typing a rule key (${typingTimes.length} keystrokes, each didChange + diagnostic pull + completion; ${Math.round(typingItems / typingTimes.length)} items on average) p50 / p95`,
      `${percentile(typingTimes, 50).toFixed(1)} / ${percentile(typingTimes, 95).toFixed(1)} ms`,
      'p95 ≤ 50 ms',
    ]);
    rows.push(['language server RSS after the above', rssMb(child.pid!), '']);
    rows.push(...cpuRows(folder, typed));
    rows.push(['diagnostics in the policy', String(first.length), '']);

    await connection.sendRequest('shutdown');
    await connection.sendNotification('exit');
    connection.dispose();
    child.kill();
    // The same open in more fresh servers, one after another, this one stopped first.
    while (coldOpens.length < COLD_OPENS) coldOpens.push(await coldOpenMs(entry, uri, openedText));
    coldOpens.sort((a, b) => a - b);
    rows[coldRow] = [
      `full diagnostics on open (catalog read, cold): median of ${COLD_OPENS} fresh servers (fastest – slowest)`,
      `${percentile(coldOpens, 50).toFixed(0)} ms (${coldOpens[0]!.toFixed(0)} – ${coldOpens[coldOpens.length - 1]!.toFixed(0)})`,
      '≤ 300 ms',
    ];
  } finally {
    connection.dispose();
    child.kill();
    rmSync(folder, { recursive: true, force: true });
  }
  const policyKb = (Buffer.byteLength(text) / 1024).toFixed(0);
  return [
    `### Language server: ${RULES.toLocaleString('en')}-rule policy (${policyKb} KB) against a ${TOOLS.toLocaleString('en')}-tool catalog (${SERVERS} servers), over LSP`,
    '',
    '| measure | result | aim |',
    '| --- | --- | --- |',
    ...rows.map((row) => `| ${row.join(' | ')} |`),
    '',
    `Load average (1 min) when the run began: ${loadBefore.toFixed(1)} on ${cpus().length} cores; other processes share the CPU, so the figures scale with it.`,
    '',
  ].join('\n');
}

if (require.main === module) {
  benchLanguageServer().then(
    (table) => process.stdout.write(table),
    (error: unknown) => {
      process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
