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
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { parse } from 'jsonc-parser';
import type { Locator } from 'playwright-core';
import { definitionDigest, type CatalogFile } from '../../core';
import { launchBrowser, readVscodeLogs, repoRoot, startCodeServer, type CodeServer, type Workbench } from './codeServer';
import { EXTENSION_ID, expectText, freePort, packageExtension } from './extensionFixture';

const root = repoRoot();
const screenshotsDir = join(root, 'test-results', 'e2e');
const filesystemServer = join(root, 'node_modules', '.bin', 'mcp-server-filesystem');
const REVIEWED_DESCRIPTION = 'Search for files by name (as reviewed)';

let skipReason: string | undefined;
let temp: string;
let vsix: string;
let cleanup: (() => Promise<void>) | undefined;

before(async () => ({ skipReason, temp, vsix, cleanup } = await packageExtension('mcp-policy-e2e-catalog-')));
after(() => cleanup?.());

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

async function poll<T>(what: string, read: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function readNonEmpty(path: string): string | undefined {
  return existsSync(path) && statSync(path).size > 0 ? readFileSync(path, 'utf8') : undefined;
}

function resultText(result: object): string {
  const content = 'content' in result ? result.content : undefined;
  return Array.isArray(content) ? content.map((part: unknown) => (typeof part === 'object' && part !== null && 'text' in part ? String(part.text) : '')).join('\n') : '';
}

function logCount(server: CodeServer, pattern: RegExp): number {
  return server.vscodeLogs().match(new RegExp(pattern.source, 'g'))?.length ?? 0;
}

test('the Tool Catalog in a real VS Code: effective decisions, Add Rule where it decides, drift with its diff', { timeout: 240_000 }, async (t) => {
  if (skipReason) {
    t.skip(skipReason);
    return;
  }
  const workspace = join(temp, 'workspace');
  const dataDir = join(temp, 'data');
  mkdirSync(workspace, { recursive: true });
  mkdirSync(dataDir, { recursive: true });
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
  let server: CodeServer | undefined;
  let ui: Workbench | undefined;
  let mcp: Client | undefined;
  t.after(async () => {
    await mcp?.close().catch(() => undefined);
    await ui?.close();
    await server?.stop();
  });
  server = await startCodeServer({
    vsix,
    workspace,
    settings: { 'mcpPolicy.proxy.port': port, 'files.autoSave': 'off', 'workbench.view.alwaysShowHeaderActions': true },
  });
  ui = await launchBrowser({ screenshotsDir });
  const { page } = ui;
  await ui.openWorkbench(server.workbenchUrl);
  await server.waitForExtensionActivated(EXTENSION_ID, 60_000);
  const statusItem = page.locator('.part.statusbar .statusbar-item').filter({ hasText: 'MCP Policy:' }).first();
  await statusItem.waitFor({ state: 'visible', timeout: 30_000 });
  await ui.runCommand('MCP Policy: Start Local Proxy');
  await expectText(statusItem, /MCP Policy: on · 1 server/, 30_000);
  const token = (await poll('the token file', () => readNonEmpty(join(server!.dirs.home, '.mcp-policy', `serve-${port}.token`)), 10_000)).trim();
  mcp = new Client({ name: 'e2e-catalog-view', version: '1.0.0' });
  await mcp.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/servers/fs/mcp`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
  const client = mcp;

  await ui.runCommand('MCP Policy: Show Decisions');
  const pane = (name: string): Locator => page.locator('.pane').filter({ has: page.locator('.pane-header', { hasText: name }) });
  const decisions = pane('Decisions');
  const toolCatalog = pane('Tool Catalog');
  // The catalog gets the side bar's height: every tool of the server is on screen.
  await decisions.locator('.pane-header').click();
  await toolCatalog.locator('.pane-body').waitFor({ state: 'visible', timeout: 15_000 });
  /** The catalog row whose accessible label starts with e.g. "read_text_file on fs, Allowed by …". */
  const catalogRow = (label: string): Locator => toolCatalog.locator(`.monaco-list-row[aria-label^=${JSON.stringify(label)}]`);

  let failures = 0;
  const step = (name: string, body: () => Promise<void>): Promise<void> =>
    t.test(name, async (st) => {
      try {
        await body();
      } catch (error) {
        const shot = await ui?.screenshot(`catalogview-failure-${++failures}`).catch(() => undefined);
        const rows = await toolCatalog.locator('.monaco-list-row').evaluateAll((els) => els.map((el) => el.getAttribute('aria-label'))).catch(() => []);
        st.diagnostic(`screenshot: ${shot ?? 'none'}`);
        st.diagnostic(`catalog rows: ${JSON.stringify(rows)}`);
        const extensionLog = server ? readVscodeLogs(server.dirs.userDataDir, /MCP Policy/).slice(-4000) : '';
        for (const line of extensionLog.split('\n')) if (line.trim()) st.diagnostic(line);
        throw error;
      }
    });

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
    await ui!.screenshot('catalogview-1-effective-decisions');
  });

  await step('2. Add Rule (Allow, 10 per minute) writes into servers.fs.tools, and the next call is decided by it', async () => {
    const before = await client.callTool({ name: 'create_directory', arguments: { path: join(dataDir, 'before') } });
    assert.equal(before.isError, true, JSON.stringify(before));
    assert.match(resultText(before), /^\[POLICY DENIED\] create_directory: No new folders \(rule: tools\.create_directory\)/);

    const row = catalogRow('create_directory on fs');
    const reloadsBefore = logCount(server!, /Policy reloaded:/);
    await row.hover();
    await row.getByRole('button', { name: 'Add Rule' }).click();
    const picker = page.locator('.quick-input-widget');
    await picker.locator('.monaco-list-row', { hasText: 'Approve' }).first().waitFor({ state: 'visible', timeout: 10_000 });
    await ui!.screenshot('catalogview-2a-add-rule-action');
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
    await ui!.screenshot('catalogview-2b-rule-written');

    await poll('the proxy reloading the policy', () => (logCount(server!, /Policy reloaded:/) > reloadsBefore ? true : undefined), 15_000);
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
    await ui!.screenshot('catalogview-3a-drift-marked');

    await drifted.click();
    const diffTab = page.locator('.tabs-container .tab', { hasText: 'search_files: pinned ↔ live (fs)' });
    await diffTab.waitFor({ state: 'visible', timeout: 15_000 });
    const diff = page.locator('.monaco-diff-editor');
    await diff.waitFor({ state: 'visible', timeout: 10_000 });
    await expectText(diff.locator('.editor.original'), new RegExp(REVIEWED_DESCRIPTION.replace(/[()]/g, '\\$&')), 10_000);
    await expectText(diff.locator('.editor.modified'), new RegExp((liveDescription ?? '').slice(0, 30).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 10_000);
    await ui!.screenshot('catalogview-3b-drift-diff');

    // The drift shows in Decisions too.
    await decisions.locator('.pane-header').click();
    await decisions.locator('.monaco-list-row[aria-label^="Drift: search_files on fs"]').waitFor({ state: 'visible', timeout: 10_000 });
    await ui!.screenshot('catalogview-3c-drift-in-decisions');

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
    await ui!.screenshot('catalogview-3d-accepted');
  });

  await step('4. a Refresh Tool Catalog that fails for one server names it and why, and offers its upstream', async () => {
    await mcp?.close();
    mcp = undefined;
    const text = readFileSync(policyFile, 'utf8').replace(
      '"servers": {\n',
      `"servers": {\n    "broken": { "upstream": { "command": ${JSON.stringify(join(temp, 'no-such-server'))} } },\n`,
    );
    writeFileSync(policyFile, text);
    await ui!.runCommand('MCP Policy: Refresh Tool Catalog');
    const message = await ui!.waitForNotification(/The tool catalog was not refreshed for "broken"/, 60_000);
    assert.doesNotMatch(message, /wrote /);
    assert.match(message, /the other servers were refreshed/);
    const toast = page.locator('.notifications-toasts .notification-toast').filter({ hasText: 'not refreshed for "broken"' });
    await ui!.screenshot('catalogview-4-refresh-error');
    await toast.getByRole('button', { name: 'Open Upstream' }).click();
    await page.locator('.tabs-container .tab.active', { hasText: 'mcp-policy.json' }).waitFor({ state: 'visible', timeout: 10_000 });
  });
});
