// Raw JSON-lines client over stdio: N sequential echo calls (p50/p90/p99), then TOTAL (default 20,000) calls with 16 in flight, and the CPU per call of the process it started (/proc).
// node bench/probes/rawStdioCalls.mjs N COMMAND [ARGS...]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
const [n = '2000', ...cmd] = process.argv.slice(2);
const child = spawn(cmd[0], cmd.slice(1), { stdio: ['pipe', 'pipe', 'ignore'] });
let buf = ''; const waiting = new Map();
child.stdout.setEncoding('utf8');
child.stdout.on('data', (c) => { buf += c; let i; while ((i = buf.indexOf('\n')) >= 0) { const line = buf.slice(0, i); buf = buf.slice(i + 1); if (!line) continue; const m = JSON.parse(line); const w = waiting.get(m.id); if (w) { waiting.delete(m.id); w(m); } } });
let id = 0;
const rpc = (method, params) => new Promise((r) => { const i = ++id; waiting.set(i, r); child.stdin.write(JSON.stringify({ jsonrpc: '2.0', id: i, method, params }) + '\n'); });
await rpc('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } });
child.stdin.write(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) + '\n');
const call = () => rpc('tools/call', { name: 'echo', arguments: { message: 'bench' } });
for (let i = 0; i < 500; i++) await call();
const ticks = (pid) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) * 10; };
const lat = [];
for (let i = 0; i < Number(n); i++) { const s = performance.now(); await call(); lat.push(performance.now() - s); }
lat.sort((a, b) => a - b);
const q = (p) => lat[Math.floor(p * (lat.length - 1))].toFixed(3);
const K = 16, total = Number(process.env.TOTAL ?? 20000); let left = total;
const c0 = ticks(child.pid); const t1 = performance.now();
await Promise.all(Array.from({ length: K }, async () => { while (left-- > 0) await call(); }));
const sec = (performance.now() - t1) / 1000; const cpu = ticks(child.pid) - c0;
console.log(`p50 ${q(0.5)} p90 ${q(0.9)} p99 ${q(0.99)} ms; ${(total / sec).toFixed(0)} calls/s (16 in flight); front process cpu ${(cpu * 1000 / total).toFixed(0)} us/call`);
child.kill(); process.exit(0);
