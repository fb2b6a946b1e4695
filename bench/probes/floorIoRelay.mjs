// The least a Node stdio relay can do and still keep mcp-policy's records: bytes copied both ways
// unparsed, plus the file writes the proxy must make for each call before forwarding it (the budget
// claim appended to a counter log and read back, the audit decision line) and after its answer
// (the outcome line), with lines of the proxy's sizes. Files go in a fresh temporary folder.
// node bench/probes/floorIoRelay.mjs COMMAND [ARGS...]
import { spawn } from 'node:child_process';
import { constants, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const folder = mkdtempSync(join(tmpdir(), 'mcp-policy-floor-'));
const counter = openSync(join(folder, 'counters.log'), constants.O_RDWR | constants.O_APPEND | constants.O_CREAT);
const audit = openSync(join(folder, 'audit.jsonl'), 'a');
const claim = `\n${'c'.repeat(127)}\n`;
const decision = `${'d'.repeat(401)}\n`;
const outcome = `${'o'.repeat(153)}\n`;
const readBack = Buffer.allocUnsafe(65536);
let replayed = 0;
const linesIn = (chunk) => {
  let count = 0;
  for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) count++;
  return count;
};
const child = spawn(process.argv[2], process.argv.slice(3), { stdio: ['pipe', 'pipe', 'ignore'] });
process.stdin.on('data', (chunk) => {
  for (let left = linesIn(chunk); left > 0; left--) {
    writeSync(counter, claim);
    replayed += readSync(counter, readBack, 0, readBack.length, replayed);
    writeSync(audit, decision);
  }
  child.stdin.write(chunk);
});
child.stdout.on('data', (chunk) => {
  for (let left = linesIn(chunk); left > 0; left--) writeSync(audit, outcome);
  process.stdout.write(chunk);
});
process.stdin.on('end', () => child.kill());
process.on('exit', () => rmSync(folder, { recursive: true, force: true }));
