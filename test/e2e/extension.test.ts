// End-to-end: the packaged .vsix in a real VS Code (code-server 4.139.1), driven by Playwright
// in Debian's Chromium. The workspace's policy guards @modelcontextprotocol/server-filesystem
// over a temp folder; an MCP SDK client in this test talks to the extension's local proxy.
//
// Screenshots of every step go to test-results/e2e/ (git-ignored, kept as CI artifacts).
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { catalogFromToolsList, type CatalogTool } from '../../core';
import { repoRoot } from './codeServer';
import { expectText, freePort, makeWorkspaceAndData, usePackagedExtension } from './extensionFixture';
import { openWorkbenchSession } from './workbenchSession';

const root = repoRoot();
const filesystemServer = join(root, 'node_modules', '.bin', 'mcp-server-filesystem');

const extension = usePackagedExtension('mcp-policy-e2e-');

/** Policy lines the test points at (1-based, as VS Code's status bar shows them). */
const LINE = { tools: 4, writeFile: 6, misspelled: 7 };

function policyText(dataDir: string): string {
  // Keep the line numbers in LINE in step with this text.
  return [
    '{',
    '  "version": "1",',
    '  "default": "deny",',
    '  "tools": {',
    '    "list_directory": {},',
    '    "write_file": { "action": "deny", "reason": "Agents may look at the files, never change them" },',
    '    "read_txt_file": {}',
    '  },',
    '  "servers": {',
    `    "fs": { "upstream": { "command": ${JSON.stringify(filesystemServer)}, "args": [${JSON.stringify(dataDir)}] } }`,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** The catalog, straight from the server's own tools/list (what `mcp-policy catalog` records). */
async function writeCatalog(file: string, dataDir: string): Promise<string[]> {
  const client = new Client({ name: 'e2e-catalog', version: '1.0.0' });
  await client.connect(new StdioClientTransport({ command: filesystemServer, args: [dataDir], stderr: 'ignore' }));
  try {
    const tools: CatalogTool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor ? { cursor } : {});
      for (const tool of page.tools) tools.push({ ...(tool as unknown as CatalogTool) });
      cursor = page.nextCursor;
    } while (cursor);
    writeFileSync(file, `${JSON.stringify(catalogFromToolsList('fs', tools, client.getServerVersion()), null, 2)}\n`);
    return tools.map((t) => t.name);
  } finally {
    await client.close();
  }
}


test('the extension in a real VS Code: diagnostics, completion, local proxy, decisions, Go to Rule', { timeout: 300_000 }, async (t) => {
  if (extension.skipReason) {
    t.skip(extension.skipReason);
    return;
  }
  const { workspace, dataDir } = makeWorkspaceAndData(extension.temp);
  writeFileSync(join(dataDir, 'hello.txt'), 'hello from the e2e test\n');
  const policyFile = join(workspace, 'mcp-policy.json');
  writeFileSync(policyFile, policyText(dataDir));
  const toolNames = await writeCatalog(join(workspace, 'mcp-policy.catalog.json'), dataDir);
  assert.ok(toolNames.includes('read_text_file') && toolNames.includes('write_file'), `unexpected filesystem tools: ${toolNames.join(', ')}`);

  const port = await freePort();
  const started = Date.now();
  const session = await openWorkbenchSession(t, {
    vsix: extension.vsix,
    workspace,
    settings: { 'mcpPolicy.proxy.port': port, 'files.autoSave': 'off', 'editor.quickSuggestions': { other: false, comments: false, strings: false } },
    shotPrefix: 'extension',
  });
  const { server, ui, page, statusItem } = session;
  await statusItem.waitFor({ state: 'visible', timeout: 30_000 });
  assert.match(await statusItem.innerText(), /MCP Policy: off/);

  // Activation time, as the extension measures it in-process (log timestamps are batched).
  const activated = await server.waitForVscodeLog(/MCP Policy activated in [^\n]*/);
  const serverReady = await server.waitForVscodeLog(/Language server ready [^\n]*/, 30_000);
  t.diagnostic(`${activated[0]}; ${serverReady[0]}`);

  // 1. The policy: a diagnostic for the misspelled tool, completion from the catalog.
  await t.test('1. opening the policy shows a diagnostic and completion offers catalog tools', async () => {
    await ui.runCommand('MCP Policy: Open Policy');
    await page.locator('.tabs-container .tab.active', { hasText: 'mcp-policy.json' }).waitFor({ timeout: 15_000 });
    await page.keyboard.press('Control+Shift+M'); // Problems panel
    const problem = page.locator('.markers-panel .monaco-list-row').filter({ hasText: 'unknown tool "read_txt_file"' }).first();
    await problem.waitFor({ state: 'visible', timeout: 30_000 });
    assert.match(await problem.innerText(), /did you mean "read_text_file"/);
    await ui.screenshot('1a-diagnostic');

    // A new key in "tools": the suggestions are the catalog's tools.
    await page.locator('.monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+G');
    const goToLine = page.locator('.quick-input-widget input.input');
    await goToLine.waitFor({ state: 'visible', timeout: 10_000 });
    await goToLine.fill(`:${LINE.tools}`); // Ctrl+G is Quick Open with ":"
    await goToLine.press('Enter');
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 });
    await expectText(page.locator('.part.statusbar .statusbar-item').filter({ hasText: /Ln \d+, Col \d+/ }).first(), new RegExp(`Ln ${LINE.tools}, Col`), 10_000);
    await page.keyboard.press('End');
    await page.keyboard.press('Enter');
    // Typed as a whole rule so the document stays valid JSON, then completed inside the key.
    await page.keyboard.type('"read_t": {},');
    await page.keyboard.press('Home');
    for (let i = 0; i < '"read_t'.length; i++) await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Control+Space');
    const suggestion = page.locator('.suggest-widget .monaco-list-row').filter({ hasText: 'read_text_file' }).first();
    await suggestion.waitFor({ state: 'visible', timeout: 20_000 });
    await ui.screenshot('1b-completion');
    await page.keyboard.press('Escape');
    await ui.runCommand('File: Revert File');
  });

  // 2. Start the proxy from the command palette.
  const tokenFile = join(server.dirs.home, '.mcp-policy', `serve-${port}.token`);
  await t.test('2. "MCP Policy: Start Local Proxy" turns the status bar on and offers the guarded server to VS Code', async () => {
    await ui.runCommand('MCP Policy: Start Local Proxy');
    await expectText(statusItem, /MCP Policy: on · 1 server · 0 blocked/, 30_000);
    // VS Code's own agent sees the guarded server (vscode.lm.registerMcpServerDefinitionProvider).
    await page.keyboard.press('F1');
    const palette = page.locator('.quick-input-widget');
    await palette.locator('input.input').fill('>MCP: List Servers');
    await palette.locator('.monaco-list-row', { hasText: 'MCP: List Servers' }).first().waitFor({ timeout: 10_000 });
    await page.keyboard.press('Enter');
    await palette.locator('.monaco-list-row', { hasText: 'fs (guarded by MCP Policy)' }).first().waitFor({ timeout: 15_000 });
    await ui.screenshot('2-proxy-on');
    await page.keyboard.press('Escape');
    await palette.waitFor({ state: 'hidden', timeout: 5_000 });
  });

  let mcp: Client | undefined;
  // 3. An MCP client through the proxy: one allowed call, one denied.
  await t.test('3. an allowed and a denied call show in Decisions; Blocked filter; Go to Rule', async () => {
    mcp = await session.connect(port, 'fs', 'e2e-agent');
    const listed = await mcp.callTool({ name: 'list_directory', arguments: { path: dataDir } });
    assert.notEqual(listed.isError, true, JSON.stringify(listed));
    assert.match(JSON.stringify(listed.content), /hello\.txt/);
    const written = await mcp.callTool({ name: 'write_file', arguments: { path: join(dataDir, 'evil.txt'), content: 'nope' } });
    assert.equal(written.isError, true);
    assert.match(JSON.stringify(written.content), /\[POLICY DENIED\] write_file/);
    assert.equal(existsSync(join(dataDir, 'evil.txt')), false, 'the denied call reached the server');

    await expectText(statusItem, /1 blocked/, 10_000);
    await statusItem.click(); // opens Decisions
    const decisions = page.locator('.pane').filter({ has: page.locator('.pane-header', { hasText: 'Decisions' }) });
    const allowedRow = decisions.locator('.monaco-list-row').filter({ hasText: 'list_directory' });
    const deniedRow = decisions.locator('.monaco-list-row').filter({ hasText: 'write_file' });
    await allowedRow.first().waitFor({ state: 'visible', timeout: 15_000 });
    await deniedRow.first().waitFor({ state: 'visible', timeout: 15_000 });
    // Newest first: the denied call was made last.
    const labels = await decisions.locator('.monaco-list-row .label-name').allInnerTexts();
    assert.deepEqual(labels.slice(0, 2), ['write_file', 'list_directory']);
    await ui.screenshot('3a-decisions');

    await ui.runCommand('MCP Policy: Show Blocked Only');
    await allowedRow.first().waitFor({ state: 'hidden', timeout: 10_000 });
    assert.equal(await deniedRow.count(), 1);
    await ui.screenshot('3b-blocked-only');

    // A click on a decision goes to the rule that made it: "write_file" on line 6.
    await deniedRow.first().click();
    await page.locator('.tabs-container .tab.active', { hasText: 'mcp-policy.json' }).waitFor({ timeout: 15_000 });
    const cursor = page.locator('.part.statusbar .statusbar-item').filter({ hasText: /Ln \d+, Col \d+/ }).first();
    await expectText(cursor, new RegExp(`Ln ${LINE.writeFile}, Col \\d+ \\(12 selected\\)`), 10_000);
    await ui.screenshot('3c-go-to-rule');
  });

  // 4. Stop: the status bar says off and the client cannot reach the proxy any more.
  await t.test('4. "MCP Policy: Stop Local Proxy" turns it off and the next call fails to connect', async () => {
    await ui.runCommand('MCP Policy: Stop Local Proxy');
    await expectText(statusItem, /MCP Policy: off/, 15_000);
    await assert.rejects(mcp!.callTool({ name: 'list_directory', arguments: { path: dataDir } }), /fetch failed|ECONNREFUSED|connect|closed|terminated/i);
    assert.equal(existsSync(tokenFile), false, 'the token file outlived the proxy');
    await ui.screenshot('4-proxy-off');
  });

  t.diagnostic(`scenario: ${((Date.now() - started) / 1000).toFixed(1)} s from opening the workbench`);
});

