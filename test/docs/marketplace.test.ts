// The .vsix's README (the extension's page in VS Code and on the Marketplace) is the user-facing
// docs/marketplace/README.md, not the developer README, and carries the screenshots it shows.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import JSZip from 'jszip';

const repoRoot = join(__dirname, '..', '..', '..');

test('the packaged .vsix has the Marketplace README as its README, with its screenshots', { timeout: 120_000 }, async (t) => {
  const temp = mkdtempSync(join(tmpdir(), 'mcp-policy-marketplace-'));
  t.after(() => rmSync(temp, { recursive: true, force: true }));
  const vsix = join(temp, 'mcp-policy.vsix');
  const packaged = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'package-vsix.mjs'), '--out', vsix], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(packaged.status, 0, `packaging failed:\n${packaged.stdout}\n${packaged.stderr}`);

  const zip = await JSZip.loadAsync(readFileSync(vsix));
  const text = async (name: string): Promise<string> => {
    const entry = zip.file(name);
    assert.ok(entry, `${name} is not in the .vsix`);
    return entry.async('string');
  };
  const manifest = await text('extension.vsixmanifest');
  const details = /<Asset Type="Microsoft\.VisualStudio\.Services\.Content\.Details" Path="([^"]+)"/.exec(manifest)?.[1];
  assert.ok(details, `the manifest names no README (Content.Details):\n${manifest}`);
  const shipped = await text(details);

  const marketplace = readFileSync(join(repoRoot, 'docs', 'marketplace', 'README.md'), 'utf8');
  const developer = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  assert.equal(shipped, marketplace.replace(/\]\(\.\.\/screenshots\//g, '](media/screenshots/'));
  assert.ok(!shipped.includes(developer.split('\n').slice(2, 5).join('\n')), 'the developer README was shipped');
  assert.match(shipped, /## Quick start/);

  const files = Object.keys(zip.files);
  const images = [...shipped.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((match) => match[1]!);
  assert.ok(images.length >= 3, `the README shows ${images.length} screenshots`);
  for (const image of images) {
    assert.ok(files.includes(`extension/${image}`), `${image} is linked but not in the .vsix`);
    assert.ok(existsSync(join(repoRoot, 'docs', 'screenshots', image.replace('media/screenshots/', ''))));
  }
});
