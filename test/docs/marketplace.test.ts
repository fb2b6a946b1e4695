// The .vsix's README (the extension's page in VS Code and on the Marketplace) is the user-facing
// docs/marketplace/README.md, not the developer README, and carries the screenshots it shows.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const repoRoot = join(__dirname, '..', '..', '..');

function unzip(vsix: string, ...args: string[]): string {
  const result = spawnSync('unzip', [...args, vsix], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  assert.equal(result.error, undefined, `unzip (Debian's unzip package) is needed to read the .vsix: ${String(result.error)}`);
  return result.stdout;
}

test('the packaged .vsix has the Marketplace README as its README, with its screenshots', { timeout: 120_000 }, (t) => {
  const temp = mkdtempSync(join(tmpdir(), 'mcp-policy-marketplace-'));
  t.after(() => rmSync(temp, { recursive: true, force: true }));
  const vsix = join(temp, 'mcp-policy.vsix');
  const packaged = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'package-vsix.mjs'), '--out', vsix], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(packaged.status, 0, `packaging failed:\n${packaged.stdout}\n${packaged.stderr}`);

  const manifest = spawnSync('unzip', ['-p', vsix, 'extension.vsixmanifest'], { encoding: 'utf8' }).stdout;
  const details = /<Asset Type="Microsoft\.VisualStudio\.Services\.Content\.Details" Path="([^"]+)"/.exec(manifest)?.[1];
  assert.ok(details, `the manifest names no README (Content.Details):\n${manifest}`);
  const shipped = spawnSync('unzip', ['-p', vsix, details], { encoding: 'utf8' }).stdout;

  const marketplace = readFileSync(join(repoRoot, 'docs', 'marketplace', 'README.md'), 'utf8');
  const developer = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  assert.equal(shipped, marketplace.replace(/\]\(\.\.\/screenshots\//g, '](media/screenshots/'));
  assert.ok(!shipped.includes(developer.split('\n').slice(2, 5).join('\n')), 'the developer README was shipped');
  assert.match(shipped, /## Quick start/);

  const files = unzip(vsix, '-Z1').split('\n');
  const images = [...shipped.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((match) => match[1]!);
  assert.ok(images.length >= 3, `the README shows ${images.length} screenshots`);
  for (const image of images) {
    assert.ok(files.includes(`extension/${image}`), `${image} is linked but not in the .vsix`);
    assert.ok(existsSync(join(repoRoot, 'docs', 'screenshots', image.replace('media/screenshots/', ''))));
  }
});
