#!/usr/bin/env node
// Packages the VS Code extension (.vsix) from a staging folder.
//
// package.json's "files" (what npm publishes: examples, source maps, …) and .vscodeignore (what
// the .vsix carries) describe two different packages, and vsce refuses to package a folder that
// has both. So this copies package.json without "files", .vscodeignore and the folders it can
// keep into a temp folder and runs vsce there. Everything the extension needs is bundled into
// dist/, hence --no-dependencies.
//
//   node scripts/package-vsix.mjs [--out FILE.vsix] [--ls]
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const listOnly = args.includes('--ls');
const outIndex = args.indexOf('--out');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const out = resolve(outIndex >= 0 && args[outIndex + 1] ? args[outIndex + 1] : join(root, `${manifest.name}-${manifest.version}.vsix`));

for (const needed of ['dist/extension.js', 'dist/server.js', 'dist/cli.js']) {
  if (!existsSync(join(root, needed))) {
    console.error(`package-vsix: ${needed} is missing: run "npm run build" first`);
    process.exit(1);
  }
}

const stage = mkdtempSync(join(tmpdir(), 'mcp-policy-vsix-'));
try {
  delete manifest.files;
  writeFileSync(join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  for (const entry of ['.vscodeignore', 'dist', 'schemas', 'language', 'media', 'README.md', 'LICENSE', 'CHANGELOG.md']) {
    if (existsSync(join(root, entry))) cpSync(join(root, entry), join(stage, entry), { recursive: true });
  }
  const vsce = createRequire(import.meta.url).resolve('@vscode/vsce/vsce');
  const vsceArgs = listOnly ? ['ls', '--no-dependencies'] : ['package', '--no-dependencies', '--allow-missing-repository', '--out', out];
  const result = spawnSync(process.execPath, [vsce, ...vsceArgs], { cwd: stage, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
  if (!listOnly) console.log(`package-vsix: ${out} (${(statSync(out).size / 1024).toFixed(0)} KiB)`);
} finally {
  rmSync(stage, { recursive: true, force: true });
}
