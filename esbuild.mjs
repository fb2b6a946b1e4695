// Bundles the CLI, the language server and the extension into dist/.
import { build } from 'esbuild';
import { chmod } from 'node:fs/promises';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  // jsonc-parser's UMD "main" hides its requires from the bundler; its ESM build bundles cleanly.
  mainFields: ['module', 'main'],
  logLevel: 'warning',
};

const entries = [
  { entryPoints: ['proxy/cli.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } },
];
const optional = [
  { entryPoints: ['server/main.ts'], outfile: 'dist/server.js' },
  // The language server's pin digests, made on a worker thread beside dist/server.js (core/catalogDigests.ts).
  { entryPoints: ['core/catalogDigestWorker.ts'], outfile: 'dist/catalogDigestWorker.js' },
  { entryPoints: ['examples/crm/server/main.ts'], outfile: 'dist/demo-crm-server.js', banner: { js: '#!/usr/bin/env node' } },
  { entryPoints: ['examples/crm/agent/main.ts'], outfile: 'dist/demo-agent.js' },
  { entryPoints: ['client/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] },
];
import { existsSync } from 'node:fs';
for (const entry of optional) if (existsSync(entry.entryPoints[0])) entries.push(entry);

await Promise.all(entries.map((entry) => build({ ...common, ...entry })));
await chmod('dist/cli.js', 0o755);
