/**
 * Test upstream wrapper: runs a real MCP server and appends every message the proxy sends it
 * to SPY_LOG, so a test can prove what reached the upstream (and what never did).
 * usage: node spyServer.js CMD ARG...   (env SPY_LOG=file)
 */
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';

const [command, ...args] = process.argv.slice(2);
const log = process.env.SPY_LOG;
if (!command || !log) {
  process.stderr.write('usage: SPY_LOG=file node spyServer.js CMD ARG...\n');
  process.exit(2);
}
const child = spawn(command, args, { stdio: ['pipe', 'inherit', 'inherit'] });
process.stdin.on('data', (chunk: Buffer) => {
  appendFileSync(log, chunk);
  child.stdin.write(chunk);
});
process.stdin.on('end', () => child.stdin.end());
child.on('exit', (code) => process.exit(code ?? 1));
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => child.kill(signal));
