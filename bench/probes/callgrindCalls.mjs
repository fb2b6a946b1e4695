// Instructions per relayed call of a stdio relay, from valgrind's callgrind: the whole process, and
// its main thread alone (where a call's path runs; compiler and GC threads make whole-process
// counts swing). Only the measured calls are instrumented, after WARM calls of warm-up.
// IN_FLIGHT=1|16 (default 16). Needs valgrind (Debian package valgrind).
// node bench/probes/callgrindCalls.mjs WARM N -- COMMAND [ARGS...]
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [warm = '10000', calls = '3000', , ...command] = process.argv.slice(2);
const inFlight = Number(process.env.IN_FLIGHT ?? 16);
const folder = mkdtempSync(join(tmpdir(), 'mcp-policy-callgrind-'));
const child = spawn('valgrind', ['--tool=callgrind', '--instr-atstart=no', '--separate-threads=yes', `--callgrind-out-file=${join(folder, 'out.%p')}`, ...command], { stdio: ['pipe', 'pipe', 'ignore'] });
let buffered = '';
const waiting = new Map();
child.stdout.setEncoding('utf8');
child.stdout.on('data', (chunk) => {
  buffered += chunk;
  for (let newline = buffered.indexOf('\n'); newline >= 0; newline = buffered.indexOf('\n')) {
    const line = buffered.slice(0, newline);
    buffered = buffered.slice(newline + 1);
    if (!line) continue;
    const message = JSON.parse(line);
    waiting.get(message.id)?.(message);
    waiting.delete(message.id);
  }
});
let id = 0;
const rpc = (method, params) => new Promise((resolve) => {
  waiting.set(++id, resolve);
  child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
});
await rpc('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'callgrind-probe', version: '1' } });
child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
const run = async (total) => {
  let left = total;
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (left-- > 0) await rpc('tools/call', { name: 'echo', arguments: { message: 'bench' } });
  }));
};
await run(Number(warm));
execFileSync('callgrind_control', ['-i', 'on', String(child.pid)], { stdio: 'ignore' });
await run(Number(calls));
execFileSync('callgrind_control', ['-i', 'off', String(child.pid)], { stdio: 'ignore' });
execFileSync('callgrind_control', ['-d', String(child.pid)], { stdio: 'ignore' });
await new Promise((resolve) => setTimeout(resolve, 500));
let all = 0;
let main = 0;
for (const file of readdirSync(folder)) {
  const totals = /^totals:\s+(\d+)/m.exec(readFileSync(join(folder, file), 'utf8'));
  if (!totals) continue;
  all += Number(totals[1]);
  if (file.endsWith('-01')) main += Number(totals[1]);
}
console.log(`${inFlight} in flight: ${(all / Number(calls)).toFixed(0)} instructions a call, main thread ${(main / Number(calls)).toFixed(0)}`);
child.kill('SIGKILL');
rmSync(folder, { recursive: true, force: true });
process.exit(0);
