import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CatalogDigests, catalogFromToolsList, definitionDigest, entryDrifted, loadCatalog, type CatalogFile, type ToolCatalog } from '../../core';
import { fluentCrmToolsList } from './helpers';

/** Pin digests made on the worker thread (core/catalogDigests.ts) are the ones the main thread makes. */

function withFolder(run: (folder: string) => void): void {
  const folder = mkdtempSync(join(tmpdir(), 'mcp-policy-digests-'));
  try {
    run(folder);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

function pinnedCatalog(): CatalogFile {
  const recorded = fluentCrmToolsList();
  return catalogFromToolsList('fluentcrm', recorded.result.tools, recorded.serverInfo);
}

/** Every entry's drift and digest, as [server, tool, drifted, digest]. */
function driftOf(catalog: ToolCatalog): Array<[string, string, boolean, string]> {
  return [...catalog.entries()].map(({ server, tool }) => [server, tool.name, entryDrifted(tool), definitionDigest(tool)]);
}

function load(folder: string, digests?: CatalogDigests): ToolCatalog {
  const { catalog, problems } = loadCatalog(join(folder, 'mcp-policy.json'), [], [], digests);
  assert.ok(problems.every((problem) => !problem.message.includes('not valid JSON')));
  return catalog;
}

test('the worker digests a catalog as the main thread does: odd shapes, missing parts, entries without pins, drifted entries', () => {
  withFolder((folder) => {
    const file = pinnedCatalog();
    const tools = file.servers.fluentcrm!.tools;
    tools[0]!.description = 'Changed by hand after pinning.';
    // No object inputSchema: the catalog reads it as {"type": "object"}, and so must the digest.
    (tools[1] as unknown as Record<string, unknown>).inputSchema = 'not a schema';
    delete tools[2]!.digest;
    const raw = JSON.parse(JSON.stringify(file)) as { servers: Record<string, unknown> };
    (raw.servers.fluentcrm as { tools: unknown[] }).tools.splice(3, 0, { description: 'no name' }, 7);
    raw.servers.broken = { tools: 'not an array' };
    raw.servers.odd = { tools: [{ name: 'odd "tool" \ud800', description: 'é\n', inputSchema: { type: 'object', properties: { '10': {}, '9': {} } }, digest: 'sha256:0' }] };
    writeFileSync(join(folder, 'mcp-policy.catalog.json'), JSON.stringify(raw));

    const digests = new CatalogDigests(true);
    try {
      const fromWorker = driftOf(load(folder, digests));
      assert.ok(digests.recorded >= tools.length - 1, `the worker's digests were used (${digests.recorded})`);
      const onMainThread = driftOf(load(folder));
      assert.deepEqual(fromWorker, onMainThread);
      const drifted = fromWorker.filter(([, , isDrifted]) => isDrifted).map(([server, name]) => `${server}/${name}`);
      assert.deepEqual(drifted.sort(), [`odd/odd "tool" \ud800`, `fluentcrm/${tools[0]!.name}`, `fluentcrm/${tools[1]!.name}`].sort());
    } finally {
      digests.stop();
    }
  });
});

test('a catalog that changes gets the digests of its new text, never those of the text read before', () => {
  withFolder((folder) => {
    const path = join(folder, 'mcp-policy.catalog.json');
    const file = pinnedCatalog();
    const digests = new CatalogDigests(true);
    try {
      writeFileSync(path, JSON.stringify(file));
      assert.deepEqual(driftOf(load(folder, digests)).filter(([, , drifted]) => drifted), []);
      // Edited by hand: the same tools, one description changed, its pin kept.
      const edited = JSON.parse(JSON.stringify(file)) as CatalogFile;
      edited.servers.fluentcrm!.tools[4]!.description = 'Now also mails the list elsewhere.';
      writeFileSync(path, JSON.stringify(edited));
      const after = driftOf(load(folder, digests));
      assert.deepEqual(after.filter(([, , drifted]) => drifted).map(([, name]) => name), [edited.servers.fluentcrm!.tools[4]!.name]);
      assert.deepEqual(after, driftOf(load(folder)));
      // And back: no drift left over from the edited text.
      writeFileSync(path, JSON.stringify(file));
      assert.deepEqual(driftOf(load(folder, digests)).filter(([, , drifted]) => drifted), []);
      assert.ok(digests.recorded > 0);
    } finally {
      digests.stop();
    }
  });
});

test('without a worker (fewer than four cores, or stopped) the main thread digests, with the same results', () => {
  withFolder((folder) => {
    const file = pinnedCatalog();
    file.servers.fluentcrm!.tools[0]!.description = 'Changed.';
    writeFileSync(join(folder, 'mcp-policy.catalog.json'), JSON.stringify(file));
    const off = new CatalogDigests(false);
    assert.equal(off.start('{}'), undefined);
    const stopped = new CatalogDigests(true);
    stopped.stop();
    assert.equal(stopped.start('{}'), undefined);
    assert.deepEqual(driftOf(load(folder, off)), driftOf(load(folder, stopped)));
    assert.deepEqual(driftOf(load(folder, off)), driftOf(load(folder)));
    assert.equal(off.recorded + stopped.recorded, 0);
  });
});

test('a catalog that is not JSON leaves the worker working for the next one', () => {
  withFolder((folder) => {
    const path = join(folder, 'mcp-policy.catalog.json');
    const digests = new CatalogDigests(true);
    try {
      writeFileSync(path, '{ not json');
      const { problems } = loadCatalog(join(folder, 'mcp-policy.json'), [], [], digests);
      assert.match(problems[0]?.message ?? '', /not valid JSON/);
      writeFileSync(path, JSON.stringify(pinnedCatalog()));
      const before = digests.recorded;
      assert.deepEqual(driftOf(load(folder, digests)).filter(([, , drifted]) => drifted), []);
      assert.ok(digests.recorded > before, 'the next catalog was digested by the worker');
    } finally {
      digests.stop();
    }
  });
});

test('a catalog file reads the same whether its text is ASCII or not', () => {
  withFolder((folder) => {
    const file = pinnedCatalog();
    const tools = file.servers.fluentcrm!.tools;
    for (const description of ['Plain ASCII: "quoted", back\\slash, \\u00e9 escaped', 'Résumé — naïve 😀 日本語', 'BOM-free \u00ff\u0100']) {
      tools[0]!.description = description;
      writeFileSync(join(folder, 'mcp-policy.catalog.json'), JSON.stringify(file, null, 2));
      assert.equal(load(folder).find(tools[0]!.name, 'fluentcrm')?.description, description);
    }
  });
});
