// ARCHITECTURE.md stays true: every file and folder it links to exists, every top-level folder
// of the repository has a code-map entry, and the import rule it states holds.
// The list of names lives in ARCHITECTURE.md itself (its links): edit the page, not this test.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const repoRoot = resolve(__dirname, '..', '..', '..');
const page = readFileSync(join(repoRoot, 'ARCHITECTURE.md'), 'utf8');

/** Relative link targets of a Markdown text, without their #fragment. */
function localLinks(markdown: string): string[] {
  const targets = [...markdown.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1] as string);
  return targets.filter((target) => !/^[a-z][a-z0-9+.-]*:|^#/i.test(target)).map((target) => target.replace(/#.*$/, ''));
}

function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `ARCHITECTURE.md has no "## ${heading}" section`);
  const end = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, end < 0 ? undefined : end);
}

test('every file and folder ARCHITECTURE.md links to exists', () => {
  const links = localLinks(page);
  // A page that lost its code map would pass the loop below vacuously.
  assert.ok(links.length >= 50, `only ${links.length} links in ARCHITECTURE.md`);
  const missing = links.filter((target) => {
    const path = join(repoRoot, target);
    if (!existsSync(path)) return true;
    // "core/" names a folder; "core/engine.ts" a file.
    return target.endsWith('/') !== readdirSafe(path);
  });
  assert.deepEqual(missing, [], `ARCHITECTURE.md names paths that are gone (or changed kind): ${missing.join(', ')}`);
});

function readdirSafe(path: string): boolean {
  try {
    readdirSync(path);
    return true;
  } catch {
    return false;
  }
}

test('every top-level folder of the repository has an entry in the code map', (t) => {
  const listed = spawnSync('git', ['ls-files', '-z'], { cwd: repoRoot, encoding: 'utf8' });
  if (listed.status !== 0) {
    t.skip('not a git checkout: cannot tell tracked folders from build output');
    return;
  }
  const folders = new Set(listed.stdout.split('\0').filter((path) => path.includes('/')).map((path) => path.split('/')[0] as string));
  const mapped = new Set(localLinks(section(page, 'Code map')).map((target) => target.replace(/\/$/, '')));
  const unmapped = [...folders].filter((folder) => !mapped.has(folder)).sort();
  assert.deepEqual(unmapped, [], `folders with no code-map entry in ARCHITECTURE.md: ${unmapped.join(', ')}`);
});

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === 'generated' ? [] : sourceFiles(path);
    return /\.(?:ts|mts|cts|js|mjs)$/.test(entry.name) ? [path] : [];
  });
}

test('only client/ imports vscode (core, server, proxy and examples run outside VS Code)', () => {
  // The per-folder tsconfig `types` do not stop `import 'vscode'`: TypeScript finds @types/vscode
  // by module resolution whatever `types` says. So this scan is the guard.
  const importsVscode = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"]vscode['"]/m;
  const offenders = ['core', 'server', 'proxy', 'examples']
    .flatMap((folder) => sourceFiles(join(repoRoot, folder)))
    .filter((file) => importsVscode.test(readFileSync(file, 'utf8')))
    .map((file) => relative(repoRoot, file));
  assert.deepEqual(offenders, [], `files outside client/ that import vscode: ${offenders.join(', ')}`);
  // The scan itself must see a real import: client/extension.ts has one.
  assert.match(readFileSync(join(repoRoot, 'client', 'extension.ts'), 'utf8'), importsVscode);
});

test('decision events are made only by the engine, and by the proxy\'s fail-closed denial', () => {
  // ARCHITECTURE.md: the engine is the single place a call is decided. Where an event may be
  // built (newDecisionEvent) and where a forwarding decision may be written as a literal:
  const mayBuildEvents = ['core/engine.ts', 'proxy/relayAnswers.ts'];
  // Replay reports what a recorded approval would do again under a draft; it forwards nothing.
  const mayAllow = ['core/engine.ts', 'core/replay.ts'];
  const files = ['core', 'server', 'proxy', 'client'].flatMap((folder) => sourceFiles(join(repoRoot, folder)));
  const text = new Map(files.map((file) => [relative(repoRoot, file), readFileSync(file, 'utf8')]));
  const building = [...text].filter(([path, source]) => path !== 'core/events.ts' && /\bnewDecisionEvent\s*\(/.test(source)).map(([path]) => path);
  assert.deepEqual(building.sort(), [...mayBuildEvents].sort(), 'decision events built outside the engine');
  const allowing = [...text].filter(([, source]) => /decision:\s*'(?:allowed|approved)'/.test(source)).map(([path]) => path);
  assert.deepEqual(allowing, mayAllow, 'a forwarding decision written outside the engine');
  assert.doesNotMatch(text.get('proxy/relayAnswers.ts') ?? '', /'(?:allowed|approved)'/, "the proxy's own events only refuse");
});
