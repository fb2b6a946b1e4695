// The bench's cold open over LSP, alone: the bench's policy and catalog, a spawned server,
// initialize/initialized, then didOpen → first diagnostic pull. Prints the wall time, the
// server's CPU time for the open (/proc/PID/stat, 10 ms ticks) and a digest of the diagnostics;
// writes them as JSON to OUT when given (to compare diagnostics before and after a change).
// node bench/probes/coldOpen.mjs [OUT] [-- NODE_ARGS...]   (after npm run build)
// The catalog is written as `mcp-policy catalog` writes it (sealed); UNSEALED=1 writes it without.
// SERVER=FILE runs another build of the server (to compare with a base in the same minutes).
// CALLGRIND=FILE runs the server under callgrind with instrumentation on only for the open:
// a count of instructions that does not depend on the machine's load, one file per thread
// (FILE-01 is the main thread; with --single-threaded the others are worker threads).
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
const require = createRequire(new URL('../../package.json', import.meta.url));
const { createMessageConnection, StreamMessageReader, StreamMessageWriter } = require('vscode-languageserver/node');
const { buildCatalog, buildPolicy } = require('./out/bench/server.js');
const { catalogFileText } = require('./out/core/catalogText.js');
const dash = process.argv.indexOf('--');
const out = dash === 2 ? undefined : process.argv[2];
const nodeArgs = dash >= 0 ? process.argv.slice(dash + 1) : [];
const callgrind = process.env.CALLGRIND;
const wrapper = callgrind ? ['valgrind', '--tool=callgrind', '--instr-atstart=no', '--separate-threads=yes', `--callgrind-out-file=${callgrind}`] : [];
const instrument = (on) => callgrind && execFileSync('callgrind_control', ['-i', on ? 'on' : 'off', String(child.pid)], { stdio: 'ignore' });

const folder = mkdtempSync(join(tmpdir(), 'mcp-policy-cold-'));
writeFileSync(join(folder, 'mcp-policy.catalog.json'), process.env.UNSEALED ? `${JSON.stringify(buildCatalog(), null, 2)}\n` : catalogFileText(buildCatalog()));
const text = buildPolicy();
const policyPath = join(folder, 'mcp-policy.json');
writeFileSync(policyPath, text);
const uri = pathToFileURL(policyPath).href;
const command = [...wrapper, process.execPath, ...nodeArgs, process.env.SERVER ?? require.resolve('./dist/server.js'), '--stdio'];
const child = spawn(command[0], command.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
connection.onRequest('client/registerCapability', () => null);
connection.onNotification('window/logMessage', () => undefined);
connection.listen();
const ticks = () => {
  if (wrapper.length > 0) return NaN;
  const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, in ms at 100 Hz
};
try {
  await connection.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: { textDocument: { diagnostic: {}, completion: { completionItem: { snippetSupport: true } } } } });
  await connection.sendNotification('initialized', {});
  await new Promise((resolve) => setTimeout(resolve, 200));
  instrument(true);
  const cpuBefore = ticks();
  const from = process.hrtime.bigint() / 1000n;
  const started = performance.now();
  await connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'json', version: 1, text } });
  const result = await connection.sendRequest('textDocument/diagnostic', { textDocument: { uri } });
  const wall = performance.now() - started;
  const cpu = ticks() - cpuBefore;
  instrument(false);
  const to = process.hrtime.bigint() / 1000n;
  // The folder's name differs per run: diagnostics name catalog paths in it.
  const json = JSON.stringify(result.items).split(folder).join('<folder>');
  if (out) writeFileSync(out, json);
  // Peak and current resident memory of the server after the open (not meaningful under callgrind).
  const status = wrapper.length > 0 ? '' : readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const memoryMb = (field) => Math.round(Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN) / 1024);
  console.log(JSON.stringify({ wallMs: Math.round(wall), serverCpuMs: cpu, peakRssMb: memoryMb('VmHWM'), rssMb: memoryMb('VmRSS'), diagnostics: result.items.length, sha256: createHash('sha256').update(json).digest('hex').slice(0, 16), windowUs: [String(from), String(to)] }));
  await connection.sendRequest('shutdown');
  await connection.sendNotification('exit');
} finally {
  connection.dispose();
  await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.on('exit', resolve)));
  rmSync(folder, { recursive: true, force: true });
}
