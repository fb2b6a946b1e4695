// The body of `npm run try` (see try.sh): package, make a sample workspace, start code-server
// through the e2e harness (test/e2e/codeServer.ts, compiled to out/), print the URL, wait for Ctrl-C.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { ensureCodeServer, startCodeServer } = require(join(root, 'out', 'test', 'e2e', 'codeServer.js'));
const { applyEdits, modify } = require('jsonc-parser');

const temp = mkdtempSync(join(tmpdir(), 'mcp-policy-try-'));
let server;
const cleanUp = () => rmSync(temp, { recursive: true, force: true });
process.on('exit', cleanUp);
// Ctrl-C: exit normally so the 'exit' hooks run (ours removes the temp folder, the harness's
// kills code-server's process group).
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => process.exit(130));

try {
  const vsix = join(temp, 'mcp-policy.vsix');
  const packaged = spawnSync(process.execPath, [join(root, 'scripts', 'package-vsix.mjs'), '--out', vsix], { stdio: 'inherit' });
  if (packaged.status !== 0) process.exit(packaged.status ?? 1);

  // A copy of examples/crm with its policy where the extension looks first (.vscode/mcp-policy.json)
  // and the demo CRM server's path made absolute (the copy is elsewhere).
  const workspace = join(temp, 'crm');
  mkdirSync(join(workspace, '.vscode'), { recursive: true });
  copyFileSync(join(root, 'examples', 'crm', 'mcp-policy.catalog.json'), join(workspace, '.vscode', 'mcp-policy.catalog.json'));
  let policy = readFileSync(join(root, 'examples', 'crm', 'mcp-policy.json'), 'utf8');
  const format = { formattingOptions: { tabSize: 2, insertSpaces: true, eol: '\n' } };
  policy = applyEdits(policy, modify(policy, ['$schema'], undefined, format)); // the extension associates the schema by file name
  policy = applyEdits(policy, modify(policy, ['servers', 'fluentcrm', 'upstream'], { command: 'node', args: [join(root, 'dist', 'demo-crm-server.js')] }, format));
  writeFileSync(join(workspace, '.vscode', 'mcp-policy.json'), policy);

  console.log('Preparing code-server (the first run installs it, a few minutes)…');
  await ensureCodeServer();
  server = await startCodeServer({ vsix, workspace });
  console.log(`\nMCP Policy in VS Code (code-server): ${server.workbenchUrl}\n`);
  console.log('Try: "MCP Policy: Start Local Proxy" from the command palette (F1), then the shield in the activity bar.');
  console.log('Press Ctrl-C to stop.');
  // Stay alive until Ctrl-C: the harness unrefs code-server, and then stops its whole process
  // group on SIGINT/SIGTERM/SIGHUP and on exit.
  setInterval(() => undefined, 1 << 30);
} catch (error) {
  console.error(`npm run try: ${error instanceof Error ? error.message : String(error)}`);
  await server?.stop();
  process.exitCode = 1;
}
