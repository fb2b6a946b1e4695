// End-to-end: the Decisions view's history in a real VS Code (code-server 4.139.1), driven by
// Playwright in Debian's Chromium, with an MCP SDK client in this test calling the extension's
// local proxy, which guards @modelcontextprotocol/server-filesystem ("fs") and
// @modelcontextprotocol/server-memory ("mem"):
//
//   1. rows: server, decision and tool on the row; a forwarded call whose upstream failed is
//      marked as such; the tooltip has the whole story;
//   2. the audit log (default: the extension's storage for the workspace) has every decision;
//      after a window reload the view shows the calls made before it, failures still marked;
//   3. the filter by server: only that server's rows, the filter shown in the view's title;
//   4. Export Decisions writes the filtered set where the user picks (offered outside the workspace).
//
// One code-server launch. Screenshots go to test-results/e2e/history-*.png.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Locator } from 'playwright-core';
import { repoRoot } from './codeServer';
import { expectText, makeWorkspaceAndData, filesystemServer, freePort, usePackagedExtension } from './extensionFixture';
import { acceptSaveDialog, openExportDialog, openWorkbenchSession, poll, readNonEmpty, rowByLabel, showDecisions } from './workbenchSession';

const bin = (name: string): string => join(repoRoot(), 'node_modules', '.bin', name);
const DENY_REASON = 'Agents may look at the files, never change them';

const extension = usePackagedExtension('mcp-policy-e2e-history-');

function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

test('history in a real VS Code: rows, failed upstreams, the audit log across a window reload, filter by server, Export', { timeout: 300_000 }, async (t) => {
  if (extension.skipReason) {
    t.skip(extension.skipReason);
    return;
  }
  const { temp } = extension;
  const { workspace, dataDir } = makeWorkspaceAndData(temp);
  writeFileSync(join(dataDir, 'hello.txt'), 'hello\n');
  writeFileSync(
    join(workspace, 'mcp-policy.json'),
    `${JSON.stringify(
      {
        version: '1',
        default: 'deny',
        tools: { read_text_file: {}, read_graph: {}, write_file: { action: 'deny', reason: DENY_REASON } },
        servers: {
          fs: { upstream: { command: filesystemServer, args: [dataDir] } },
          mem: { upstream: { command: bin('mcp-server-memory'), env: { MEMORY_FILE_PATH: join(temp, 'memory.jsonl') } } },
        },
      },
      null,
      2,
    )}\n`,
  );

  const port = await freePort();
  const session = await openWorkbenchSession(t, {
    vsix: extension.vsix,
    workspace,
    settings: {
      'mcpPolicy.proxy.port': port,
      // Started again by the reloaded window on its own.
      'mcpPolicy.proxy.autoStart': true,
      'workbench.view.alwaysShowHeaderActions': true,
    },
    shotPrefix: 'history',
  });
  const { server, ui, page, step, statusItem } = session;
  await expectText(statusItem, /MCP Policy: on · 2 servers/, 45_000);
  const fs = await session.connect(port, 'fs', 'e2e-history');
  const mem = await session.connect(port, 'mem', 'e2e-history');

  const decisions = await showDecisions(ui);
  const row = (label: string): Locator => rowByLabel(decisions, label);
  const rows = decisions.locator('.monaco-list-row');

  const expectedRows = [
    'Allowed: read_graph on mem',
    'Denied: write_file on fs',
    'Allowed, upstream failed: read_text_file on fs',
    'Allowed: read_text_file on fs',
  ];
  const rowLabels = async (): Promise<string[]> => (await rows.evaluateAll((els) => els.map((el) => el.getAttribute('aria-label') ?? '')));

  await step('1. rows show server, decision and tool; a call whose upstream failed is marked; the tooltip tells the rest', async () => {
    const hello = await fs.callTool({ name: 'read_text_file', arguments: { path: join(dataDir, 'hello.txt') } });
    assert.notEqual(hello.isError, true, JSON.stringify(hello));
    const missing = await fs.callTool({ name: 'read_text_file', arguments: { path: join(dataDir, 'missing.txt') } });
    assert.equal(missing.isError, true, 'the upstream read a file that is not there');
    const denied = await fs.callTool({ name: 'write_file', arguments: { path: join(dataDir, 'x.txt'), content: 'x' } });
    assert.equal(denied.isError, true);
    const graph = await mem.callTool({ name: 'read_graph', arguments: {} });
    assert.notEqual(graph.isError, true, JSON.stringify(graph));

    await row(expectedRows[0]!).waitFor({ state: 'visible', timeout: 15_000 });
    // The outcome arrives after the decision: wait for the failed row's own mark.
    const failed = row('Allowed, upstream failed: read_text_file on fs');
    await failed.waitFor({ state: 'visible', timeout: 15_000 });
    assert.deepEqual((await rowLabels()).map((label) => label.split(',').slice(0, label.startsWith('Allowed, upstream') ? 2 : 1).join(',')), expectedRows);
    // What the row itself reads: tool, then "server · Decision · time · why".
    assert.match(await failed.innerText(), /read_text_file\s*fs · Upstream failed · \d\d:\d\d:\d\d · .*(ENOENT|no such file)/s);
    assert.match(await row('Denied: write_file on fs').innerText(), new RegExp(`write_file\\s*fs · Denied · \\d\\d:\\d\\d:\\d\\d · ${DENY_REASON}`));
    assert.match(await row('Allowed: read_graph on mem').innerText(), /read_graph\s*mem · Allowed · /);
    // The failed row's icon is not the green tick of a success.
    assert.equal(await failed.locator('.codicon-error').count(), 1, 'the failed call has no error icon');
    assert.equal(await row('Allowed: read_text_file on fs').locator('.codicon-pass').count(), 1);
    await ui.screenshot('history-1a-rows');

    await failed.hover();
    const hover = page.locator('.monaco-hover, .workbench-hover').filter({ hasText: 'Upstream: failed' }).first();
    await hover.waitFor({ state: 'visible', timeout: 10_000 });
    const story = await hover.innerText();
    assert.match(story, /Rule: tools\.read_text_file/);
    assert.match(story, /Client: e2e-history/);
    assert.match(story, /decided in \d+ µs/);
    assert.match(story, /missing\.txt/);
    await ui.screenshot('history-1b-tooltip');
    await page.mouse.move(5, 5);
  });

  await step('2. the audit log has every decision; after a window reload the view shows them again', async () => {
    const auditFile = (await server.waitForVscodeLog(/Audit log: (\S+\.jsonl)/, 10_000))[1]!;
    assert.ok(!auditFile.startsWith(workspace), `the default audit log ${auditFile} is inside the workspace`);
    const lines = jsonLines(readFileSync(auditFile, 'utf8'));
    const decisionLines = lines.filter((line) => typeof line['rule'] === 'string');
    assert.deepEqual(
      decisionLines.map((line) => [line['server'], line['tool'], line['decision']]),
      [
        ['fs', 'read_text_file', 'allowed'],
        ['fs', 'read_text_file', 'allowed'],
        ['fs', 'write_file', 'denied'],
        ['mem', 'read_graph', 'allowed'],
      ],
    );
    const outcomes = lines.filter((line) => line['rule'] === undefined).map((line) => line['upstream'] as { ok: boolean });
    assert.deepEqual(outcomes.map((o) => o.ok).sort(), [false, true, true]);

    const activations = (): number => server.vscodeLogs().match(/_doActivateExtension mcp-policy\.mcp-policy\b/gi)?.length ?? 0;
    const before = activations();
    for (const client of [fs, mem]) await client.close().catch(() => undefined);
    await ui.runCommand('Developer: Reload Window');
    await poll('the extension activated again', () => (activations() > before ? true : undefined), 60_000);
    await page.locator('.monaco-workbench .part.statusbar').waitFor({ state: 'visible', timeout: 60_000 });
    await expectText(statusItem, /MCP Policy: on · 2 servers/, 45_000);
    await ui.runCommand('MCP Policy: Show Decisions');
    await row('Allowed, upstream failed: read_text_file on fs').waitFor({ state: 'visible', timeout: 15_000 });
    assert.deepEqual((await rowLabels()).map((label) => label.split(',').slice(0, label.startsWith('Allowed, upstream') ? 2 : 1).join(',')), expectedRows);
    await ui.screenshot('history-2-after-reload');
  });

  await step('3. the filter by server shows that server only, and says so in the view title', async () => {
    // The view's title action (the palette's "MCP Policy: Filter Decisions…" opens the same box).
    await decisions.locator('.pane-header').getByRole('button', { name: 'Filter Decisions…' }).click();
    const input = page.locator('.quick-input-widget input.input');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill('server:nope*x decision:whatever');
    await page.locator('.quick-input-widget').getByText(/"decision:whatever": "whatever" is not a decision/).waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill('server:mem');
    await input.press('Enter');
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 });
    await row('Denied: write_file on fs').waitFor({ state: 'hidden', timeout: 10_000 });
    const labels = await rowLabels();
    assert.equal(labels.length, 1, JSON.stringify(labels));
    assert.match(labels[0]!, /^Allowed: read_graph on mem/);
    await expectText(decisions.locator('.pane-header'), /server:mem · 1 of 4/, 10_000);
    await expectText(decisions.locator('.pane-body'), /Filter "server:mem": 1 of 4 decisions\./, 10_000);
    await ui.screenshot('history-3-filtered-by-server');
  });

  await step('4. Export Decisions writes the filtered set where the user picks', async () => {
    const exported = join(temp, 'mem-decisions.jsonl');
    await openExportDialog(decisions, server.dirs.home);
    await acceptSaveDialog(page, exported, 'data');
    await ui.waitForNotification(/Exported 1 decision matching "server:mem" to /, 10_000);
    const events = jsonLines(await poll('the exported file', () => readNonEmpty(exported), 10_000));
    assert.deepEqual(
      events.map((e) => [e['server'], e['tool'], e['decision']]),
      [['mem', 'read_graph', 'allowed']],
    );
    assert.deepEqual(events[0]?.['upstream'] && (events[0]['upstream'] as { ok: boolean }).ok, true);
    await ui.screenshot('history-4-exported');

    // Cleared, the filter gives every row back.
    await decisions.locator('.pane-header').getByRole('button', { name: 'Clear Decisions Filter' }).click();
    await row('Denied: write_file on fs').waitFor({ state: 'visible', timeout: 10_000 });
    assert.equal((await rowLabels()).length, 4);
  });
});
