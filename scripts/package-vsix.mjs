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
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The user-facing README (the extension's page); README.md is the developers'. */
const MARKETPLACE_README = 'docs/marketplace/README.md';
const MARKETPLACE_README_STAGED = 'MARKETPLACE.md';
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
  for (const entry of ['.vscodeignore', 'dist', 'schemas', 'language', 'media', 'LICENSE', 'CHANGELOG.md']) {
    if (existsSync(join(root, entry))) cpSync(join(root, entry), join(stage, entry), { recursive: true });
  }
  stageMarketplaceReadme(stage);
  const vsce = createRequire(import.meta.url).resolve('@vscode/vsce/vsce');
  // The extension's page shows the user-facing README, not the developer one (README.md).
  const readmeArgs = ['--readme-path', MARKETPLACE_README_STAGED, '--no-rewrite-relative-links'];
  const vsceArgs = listOnly ? ['ls', '--no-dependencies', '--readme-path', MARKETPLACE_README_STAGED] : ['package', '--no-dependencies', '--allow-missing-repository', ...readmeArgs, '--out', out];
  const result = spawnSync(process.execPath, [vsce, ...vsceArgs], { cwd: stage, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
  if (!listOnly) console.log(`package-vsix: ${out} (${(statSync(out).size / 1024).toFixed(0)} KiB)`);
} finally {
  rmSync(stage, { recursive: true, force: true });
}

/**
 * docs/marketplace/README.md links its screenshots as ../screenshots/X.png (right where it lies
 * in the repository). In the .vsix the README sits at the extension's root, and the images
 * it links are carried in media/screenshots/: VS Code shows them on the extension's page.
 */
function stageMarketplaceReadme(stageDir) {
  const text = readFileSync(join(root, MARKETPLACE_README), 'utf8');
  const staged = text.replace(/\]\(\.\.\/screenshots\/([^)\s]+\.png)\)/g, (_whole, name) => {
    const from = join(root, 'docs', 'screenshots', name);
    if (!existsSync(from)) {
      console.error(`package-vsix: ${MARKETPLACE_README} links ../screenshots/${name}, which does not exist`);
      process.exit(1);
    }
    mkdirSync(join(stageDir, 'media', 'screenshots'), { recursive: true });
    cpSync(from, join(stageDir, 'media', 'screenshots', name));
    return `](media/screenshots/${name})`;
  });
  writeFileSync(join(stageDir, MARKETPLACE_README_STAGED), staged);
}
