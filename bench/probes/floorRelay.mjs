// The least a Node stdio relay can do: bytes from stdin to the child and back, no parsing.
import { spawn } from 'node:child_process';
const child = spawn(process.argv[2], process.argv.slice(3), { stdio: ['pipe', 'pipe', 'ignore'] });
process.stdin.on('data', (c) => child.stdin.write(c));
child.stdout.on('data', (c) => process.stdout.write(c));
process.stdin.on('end', () => child.kill());
