// End-to-end: the Tool Catalog view in a real VS Code (code-server 4.139.1), driven by Playwright
// in Debian's Chromium, with an MCP SDK client talking to the extension's local proxy, which
// guards @modelcontextprotocol/server-filesystem over a temp folder. One code-server launch:
//
//   1. each tool shows how the policy decides it (hidden, denied, approve, limited, allowed),
//      with the deciding rule;
//   2. Add Rule (action Allow, limit 10 per minute) on a tool the top-level rules deny writes the
//      rule into the server's section, where it decides: the next call through the proxy is allowed;
//   3. a tool whose live description differs from its pin is marked, in the catalog and in
//      Decisions; its diff opens; Accept Change pins the live definition;
//   4. a Refresh Tool Catalog that fails for one server says which and why (not "wrote …").
//
// Screenshots go to test-results/e2e/catalogview-*.png.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'jsonc-parser';
import type { Locator, Page } from 'playwright-core';
import { definitionDigest, type CatalogFile } from '../../core';
import { repoRoot } from './codeServer';
import { expectText, filesystemServer, freePort, makeWorkspaceAndData, usePackagedExtension } from './extensionFixture';
import { logCount, openWorkbenchSession, poll, resultText, startProxyAndConnect, waitForPolicyReload } from './workbenchSession';

const root = repoRoot();
const REVIEWED_DESCRIPTION = 'Search for files by name (as reviewed)';

const extension = usePackagedExtension('mcp-policy-e2e-catalog-');

/** The top-level rules deny create_directory; the server's section is where its rules live. */
function policyText(dataDir: string): string {
  return `{
  // Rules for the fs server live in its own section; the top-level ones are the fallback.
  "version": "1",
  "default": "deny",
  "hide": ["move_file"],
  "tools": {
    "write_file": { "action": "deny", "reason": "No writes" },
    "create_directory": { "action": "deny", "reason": "No new folders" }
  },
  "servers": {
    "fs": {
      "upstream": { "command": ${JSON.stringify(filesystemServer)}, "args": [${JSON.stringify(dataDir)}] },
      "tools": {
        "read_*": {},
        "list_directory": { "limits": [{ "window": "minute", "max": 30 }] },
        "get_file_info": { "action": "approve" }
      }
    }
  }
}
`;
}

test('the Tool Catalog in a real VS Code: effective decisions, Add Rule where it decides, drift with its diff', { timeout: 240_000 }, async (t) => {
  if (extension.skipReason) {
    t.skip(extension.skipReason);
    return;
  }
  const { workspace, dataDir } = makeWorkspaceAndData(extension.temp);
  const policyFile = join(workspace, 'mcp-policy.json');
  const originalPolicy = policyText(dataDir);
  writeFileSync(policyFile, originalPolicy);

  // The catalog as `mcp-policy catalog` records it from the real server, then one pin "reviewed"
  // with another description: the live search_files has drifted from it.
  const captured = spawnSync(process.execPath, [join(root, 'dist', 'cli.js'), 'catalog', policyFile], { cwd: workspace, encoding: 'utf8' });
  assert.equal(captured.status, 0, captured.stderr);
  const catalogFile = join(workspace, 'mcp-policy.catalog.json');
  const catalog = JSON.parse(readFileSync(catalogFile, 'utf8')) as CatalogFile;
  const fsTools = catalog.servers['fs']?.tools ?? [];
  const searchFiles = fsTools.find((tool) => tool.name === 'search_files');
  assert.ok(searchFiles, `the filesystem server has no search_files: ${fsTools.map((tool) => tool.name).join(', ')}`);
  const liveDescription = searchFiles.description;
  searchFiles.description = REVIEWED_DESCRIPTION;
  searchFiles.digest = definitionDigest(searchFiles);
  writeFileSync(catalogFile, `${JSON.stringify(catalog, null, 2)}\n`);

  const port = await freePort();
  const pane = (page: Page, name: string): Locator => page.locator('.pane').filter({ has: page.locator('.pane-header', { hasText: name }) });
  const session = await openWorkbenchSession(t, {
    vsix: extension.vsix,
    workspace,
    settings: { 'mcpPolicy.proxy.port': port, 'files.autoSave': 'off', 'workbench.view.alwaysShowHeaderActions': true },
    shotPrefix: 'catalogview',
    failureDetails: async (page) => [
      `catalog rows: ${JSON.stringify(await pane(page, 'Tool Catalog').locator('.monaco-list-row').evaluateAll((els) => els.map((el) => el.getAttribute('aria-label'))))}`,
    ],
  });
  const { server, ui, page, step } = session;
  await session.statusItem.waitFor({ state: 'visible', timeout: 30_000 });
  const client = await startProxyAndConnect(session, port, 'fs', 'e2e-catalog-view');

  await ui.runCommand('MCP Policy: Show Decisions');
  const decisions = pane(page, 'Decisions');
  const toolCatalog = pane(page, 'Tool Catalog');
  // The catalog gets the side bar's height: every tool of the server is on screen.
  await decisions.locator('.pane-header').click();
  await toolCatalog.locator('.pane-body').waitFor({ state: 'visible', timeout: 15_000 });
  /** The catalog row whose accessible label starts with e.g. "read_text_file on fs, Allowed by …". */
  const catalogRow = (label: string): Locator => toolCatalog.locator(`.monaco-list-row[aria-label^=${JSON.stringify(label)}]`);

  await step('1. each catalog tool shows how the policy decides it, and by which rule', async () => {
    for (const label of [
      'read_text_file on fs, Allowed by servers.fs.tools.read_*',
      'list_directory on fs, Limited by servers.fs.tools.list_directory',
      'get_file_info on fs, Needs approval by servers.fs.tools.get_file_info',
      'write_file on fs, Denied by tools.write_file',
      'create_directory on fs, Denied by tools.create_directory',
      'move_file on fs, Hidden by hide[0]',
      'directory_tree on fs, Denied by default',
    ]) {
      await catalogRow(label).waitFor({ state: 'visible', timeout: 15_000 });
    }
    assert.match(await catalogRow('list_directory on fs').innerText(), /limited \(30 per minute\)/);
    await ui.screenshot('catalogview-1-effective-decisions');
  });

  await step('2. Add Rule (Allow, 10 per minute) writes into servers.fs.tools, and the next call is decided by it', async () => {
    const before = await client.callTool({ name: 'create_directory', arguments: { path: join(dataDir, 'before') } });
    assert.equal(before.isError, true, JSON.stringify(before));
    assert.match(resultText(before), /^\[POLICY DENIED\] create_directory: No new folders \(rule: tools\.create_directory\)/);

    const row = catalogRow('create_directory on fs');
    const reloadsBefore = logCount(server, /Policy reloaded:/);
    await row.hover();
    await row.getByRole('button', { name: 'Add Rule' }).click();
    const picker = page.locator('.quick-input-widget');
    await picker.locator('.monaco-list-row', { hasText: 'Approve' }).first().waitFor({ state: 'visible', timeout: 10_000 });
    await ui.screenshot('catalogview-2a-add-rule-action');
    await picker.locator('.monaco-list-row').filter({ has: page.locator('.label-name', { hasText: /^Allow$/ }) }).click();
    await picker.locator('.monaco-list-row', { hasText: '10 per minute' }).first().waitFor({ state: 'visible', timeout: 10_000 });
    await picker.locator('.monaco-list-row', { hasText: '10 per minute' }).first().click();

    const written = await poll(
      'the rule in servers.fs.tools on disk',
      () => {
        const text = readFileSync(policyFile, 'utf8');
        const policy = parse(text) as { servers: { fs: { tools: Record<string, unknown> } } };
        return policy.servers.fs.tools['create_directory'] !== undefined ? { text, policy } : undefined;
      },
      15_000,
    );
    assert.deepEqual(written.policy.servers.fs.tools['create_directory'], { limits: [{ window: 'minute', max: 10 }] });
    // A minimal edit: every line of the policy is still there, comments and the top-level deny included.
    const after = written.text.split('\n');
    // (the last rule of the section gains the comma that separates it from the new one)
    for (const line of originalPolicy.split('\n')) assert.ok(after.includes(line) || after.includes(`${line},`), `line changed or gone: ${line}`);
    assert.match(written.text, /"get_file_info": \{ "action": "approve" \},\n {8}"create_directory": \{\n/, written.text);
    await catalogRow('create_directory on fs, Limited by servers.fs.tools.create_directory').waitFor({ state: 'visible', timeout: 15_000 });
    await ui.screenshot('catalogview-2b-rule-written');

    await waitForPolicyReload(server, reloadsBefore);
    const made = join(dataDir, 'made-by-rule');
    const allowed = await client.callTool({ name: 'create_directory', arguments: { path: made } });
    assert.notEqual(allowed.isError, true, JSON.stringify(allowed));
    assert.ok(existsSync(made) && statSync(made).isDirectory(), 'the allowed call did not reach the server');
  });

  await step('3. a tool whose live definition differs from its pin is marked; its diff opens; Accept Change pins it', async () => {
    // The client's tools/list is where the proxy sees the live definitions.
    const listed = await client.listTools();
    assert.ok(listed.tools.some((tool) => tool.name === 'search_files'));
    const drifted = catalogRow('search_files on fs, Denied by default, changed since pinned: description');
    await drifted.waitFor({ state: 'visible', timeout: 15_000 });
    assert.match(await drifted.innerText(), /changed since pinned: description/);
    await ui.screenshot('catalogview-3a-drift-marked');

    await drifted.click();
    const diffTab = page.locator('.tabs-container .tab', { hasText: 'search_files: pinned ↔ live (fs)' });
    await diffTab.waitFor({ state: 'visible', timeout: 15_000 });
    const diff = page.locator('.monaco-diff-editor');
    await diff.waitFor({ state: 'visible', timeout: 10_000 });
    await expectText(diff.locator('.editor.original'), new RegExp(REVIEWED_DESCRIPTION.replace(/[()]/g, '\\$&')), 10_000);
    await expectText(diff.locator('.editor.modified'), new RegExp((liveDescription ?? '').slice(0, 30).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 10_000);
    await ui.screenshot('catalogview-3b-drift-diff');

    // The drift shows in Decisions too.
    await decisions.locator('.pane-header').click();
    await decisions.locator('.monaco-list-row[aria-label^="Drift: search_files on fs"]').waitFor({ state: 'visible', timeout: 10_000 });
    await ui.screenshot('catalogview-3c-drift-in-decisions');

    await drifted.hover();
    await drifted.getByRole('button', { name: 'Accept Change' }).click();
    const pinned = await poll(
      'the live definition pinned in the catalog',
      () => {
        const file = JSON.parse(readFileSync(catalogFile, 'utf8')) as CatalogFile;
        const tool = file.servers['fs']?.tools.find((entry) => entry.name === 'search_files');
        return tool && tool.description !== REVIEWED_DESCRIPTION ? tool : undefined;
      },
      15_000,
    );
    assert.equal(pinned.description, liveDescription);
    assert.equal(pinned.digest, definitionDigest(pinned));
    await toolCatalog.locator('.monaco-list-row[aria-label="search_files on fs, Denied by default"]').waitFor({ state: 'visible', timeout: 15_000 });
    assert.equal(await toolCatalog.locator('.monaco-list-row[aria-label*="changed since pinned"]').count(), 0);
    await ui.screenshot('catalogview-3d-accepted');
  });

  await step('4. a Refresh Tool Catalog that fails for one server names it and why, and offers its upstream', async () => {
    await client.close();
    const text = readFileSync(policyFile, 'utf8').replace(
      '"servers": {\n',
      `"servers": {\n    "broken": { "upstream": { "command": ${JSON.stringify(join(extension.temp, 'no-such-server'))} } },\n`,
    );
    writeFileSync(policyFile, text);
    await ui.runCommand('MCP Policy: Refresh Tool Catalog');
    const message = await ui.waitForNotification(/The tool catalog was not refreshed for "broken"/, 60_000);
    assert.doesNotMatch(message, /wrote /);
    assert.match(message, /the other servers were refreshed/);
    const toast = page.locator('.notifications-toasts .notification-toast').filter({ hasText: 'not refreshed for "broken"' });
    await ui.screenshot('catalogview-4-refresh-error');
    await toast.getByRole('button', { name: 'Open Upstream' }).click();
    await page.locator('.tabs-container .tab.active', { hasText: 'mcp-policy.json' }).waitFor({ state: 'visible', timeout: 10_000 });
  });
});
