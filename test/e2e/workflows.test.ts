// End-to-end: the extension's interactive workflows in a real VS Code (code-server 4.139.1),
// driven by Playwright in Debian's Chromium, with an MCP SDK client in this test talking to the
// extension's local proxy, which guards @modelcontextprotocol/server-filesystem over a temp folder.
//
//   1. approval: an "approve" rule asks in a VS Code notification; Approve forwards the call,
//      Deny and no answer (mcpPolicy.approval.timeoutSeconds) reject it;
//   2. Allow This Tool on a denied decision edits and saves the policy; after the proxy's hot
//      reload the same call is allowed;
//   3. Export Decisions writes JSON Lines through VS Code's simple save dialog;
//   4. Create Policy from Catalog in a workspace that only has a catalog (a second window of the
//      same code-server).
//
// Screenshots go to test-results/e2e/workflows-*.png (git-ignored, kept as CI artifacts).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { parse, printParseErrorCode, type ParseError } from 'jsonc-parser';
import type { Locator, Page } from 'playwright-core';
import { catalogFromToolsList } from '../../core';
import { launchBrowser, readVscodeLogs, repoRoot, startCodeServer, type CodeServer, type Workbench } from './codeServer';
import { EXTENSION_ID, expectText, freePort, packageExtension } from './extensionFixture';

const root = repoRoot();
const screenshotsDir = join(root, 'test-results', 'e2e');
const filesystemServer = join(root, 'node_modules', '.bin', 'mcp-server-filesystem');

/**
 * mcpPolicy.approval.timeoutSeconds for the run: short so the unanswered call is cheap, long
 * enough that Playwright clicks Approve / Deny well within it.
 */
const APPROVAL_TIMEOUT_S = 4;
const APPROVE_REASON = 'New folders need a human';
const DENY_REASON = 'Agents may look at the files, never change them';

/** Why the whole file is skipped, when the browser cannot be had (the only reason to skip). */
let skipReason: string | undefined;
let temp: string;
let vsix: string;
let cleanup: (() => Promise<void>) | undefined;

before(async () => ({ skipReason, temp, vsix, cleanup } = await packageExtension('mcp-policy-e2e-workflows-')));
after(() => cleanup?.());

function policyText(dataDir: string): string {
  return `${JSON.stringify(
    {
      version: '1',
      default: 'deny',
      tools: {
        list_directory: {},
        create_directory: { action: 'approve', reason: APPROVE_REASON },
        write_file: { action: 'deny', reason: DENY_REASON },
      },
      servers: { fs: { upstream: { command: filesystemServer, args: [dataDir] } } },
    },
    null,
    2,
  )}\n`;
}


/** Bounded poll until `read` returns a value (not undefined). */
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

/** Parses JSON with comments; fails the test on a syntax error. */
function parseJsonc(text: string, what: string): unknown {
  const errors: ParseError[] = [];
  const value: unknown = parse(text, errors, { allowTrailingComma: true });
  assert.deepEqual(errors.map((e) => printParseErrorCode(e.error)), [], `${what} is not valid JSON:\n${text}`);
  return value;
}

function record(value: unknown, what: string): Record<string, unknown> {
  assert.ok(typeof value === 'object' && value !== null && !Array.isArray(value), `${what} is not an object: ${JSON.stringify(value)}`);
  return value as Record<string, unknown>;
}

/** The text of a tool result's content. */
function resultText(result: object): string {
  const content = 'content' in result ? result.content : undefined;
  return Array.isArray(content)
    ? content.map((part: unknown) => (typeof part === 'object' && part !== null && 'text' in part ? String(part.text) : '')).join('\n')
    : '';
}

/** The approval toast for one call (its arguments name a path unique to the call). */
function approvalToast(page: Page, uniquePath: string): Locator {
  return page.locator('.notifications-toasts .notification-toast').filter({ hasText: 'An agent wants to run create_directory on fs.' }).filter({ hasText: uniquePath });
}

function logCount(server: CodeServer, pattern: RegExp): number {
  return server.vscodeLogs().match(new RegExp(pattern.source, 'g'))?.length ?? 0;
}

test('workflows in a real VS Code: approval, Allow This Tool, Export Decisions, Create Policy from Catalog', { timeout: 240_000 }, async (t) => {
  if (skipReason) {
    t.skip(skipReason);
    return;
  }
  const workspace = join(temp, 'workspace');
  const dataDir = join(temp, 'data');
  mkdirSync(workspace, { recursive: true });
  mkdirSync(dataDir, { recursive: true });
  const policyFile = join(workspace, 'mcp-policy.json');
  writeFileSync(policyFile, policyText(dataDir));

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
    settings: {
      'mcpPolicy.proxy.port': port,
      'mcpPolicy.approval.timeoutSeconds': APPROVAL_TIMEOUT_S,
      'files.autoSave': 'off',
      // Title and inline actions without hovering first.
      'workbench.view.alwaysShowHeaderActions': true,
    },
  });
  ui = await launchBrowser({ screenshotsDir });
  const { page } = ui;
  const started = Date.now();
  await ui.openWorkbench(server.workbenchUrl);
  await server.waitForExtensionActivated(EXTENSION_ID, 60_000);
  const statusItem = page.locator('.part.statusbar .statusbar-item').filter({ hasText: 'MCP Policy:' }).first();
  await statusItem.waitFor({ state: 'visible', timeout: 30_000 });

  await ui.runCommand('MCP Policy: Start Local Proxy');
  await expectText(statusItem, /MCP Policy: on · 1 server/, 30_000);
  const token = (await poll('the token file', () => readNonEmpty(join(server!.dirs.home, '.mcp-policy', `serve-${port}.token`)), 10_000)).trim();
  mcp = new Client({ name: 'e2e-workflows', version: '1.0.0' });
  await mcp.connect(
    new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/servers/fs/mcp`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }),
  );
  const client = mcp;
  const createDirectory = (path: string): ReturnType<Client['callTool']> => client.callTool({ name: 'create_directory', arguments: { path } });

  await ui.runCommand('MCP Policy: Show Decisions');
  const decisions = page.locator('.pane').filter({ has: page.locator('.pane-header', { hasText: 'Decisions' }) });
  await decisions.locator('.pane-body').waitFor({ state: 'visible', timeout: 15_000 });
  /** The Decisions row whose accessible label starts with e.g. "Approved: create_directory". */
  const decisionRow = (label: string): Locator => decisions.locator(`.monaco-list-row[aria-label^=${JSON.stringify(label)}]`);

  /** A subtest that, when it fails, leaves a screenshot, the visible notifications and the extension's log. */
  let failures = 0;
  const step = (name: string, body: () => Promise<void>): Promise<void> =>
    t.test(name, async (st) => {
      try {
        await body();
      } catch (error) {
        const shot = await ui?.screenshot(`workflows-failure-${++failures}`).catch(() => undefined);
        const toasts = await ui?.page.locator('.notifications-toasts .notification-toast').allInnerTexts().catch(() => []);
        const extensionLog = server ? readVscodeLogs(server.dirs.userDataDir, /MCP Policy/).slice(-4000) : '';
        st.diagnostic(`screenshot: ${shot ?? 'none'}`);
        st.diagnostic(`notifications: ${JSON.stringify(toasts)}`);
        for (const line of extensionLog.split('\n')) if (line.trim()) st.diagnostic(line);
        throw error;
      }
    });

  await step('1a. an "approve" rule asks in a notification; Approve forwards the call', async () => {
    const approvedDir = join(dataDir, 'approved-dir');
    const call = createDirectory(approvedDir);
    const toast = approvalToast(page, approvedDir);
    await toast.waitFor({ state: 'visible', timeout: 15_000 });
    assert.match(await toast.innerText(), new RegExp(`${APPROVE_REASON}\\.`));
    await ui!.screenshot('workflows-1a-approval-asked');
    assert.equal(existsSync(approvedDir), false, 'the call was forwarded before it was approved');
    await toast.getByRole('link', { name: 'Deny', exact: true }).waitFor({ state: 'visible', timeout: 5_000 });
    await toast.getByRole('link', { name: 'Approve', exact: true }).click();
    const result = await call;
    assert.notEqual(result.isError, true, JSON.stringify(result));
    assert.ok(existsSync(approvedDir) && statSync(approvedDir).isDirectory(), 'the approved call did not create the directory');
    await toast.waitFor({ state: 'hidden', timeout: 5_000 });

    const row = decisionRow('Approved: create_directory on fs');
    await row.waitFor({ state: 'visible', timeout: 10_000 });
    assert.match(await row.innerText(), new RegExp(`approved by VS Code \\(${APPROVE_REASON}\\)`));
    await ui!.screenshot('workflows-1a-approved');
  });

  await step('1b. Deny rejects the call and the server never sees it', async () => {
    const deniedDir = join(dataDir, 'denied-dir');
    const call = createDirectory(deniedDir);
    const toast = approvalToast(page, deniedDir);
    await toast.waitFor({ state: 'visible', timeout: 15_000 });
    await toast.getByRole('link', { name: 'Deny', exact: true }).click();
    const result = await call;
    assert.equal(result.isError, true, JSON.stringify(result));
    assert.match(resultText(result), /^\[POLICY APPROVAL REJECTED\] create_directory: denied in VS Code/);
    assert.equal(existsSync(deniedDir), false, 'the denied call reached the server');
    await decisionRow('Approval rejected: create_directory on fs, denied in VS Code').waitFor({ state: 'visible', timeout: 10_000 });
    await ui!.screenshot('workflows-1b-denied');
  });

  await step(`1c. no answer rejects the call after mcpPolicy.approval.timeoutSeconds (${APPROVAL_TIMEOUT_S} s)`, async () => {
    const lateDir = join(dataDir, 'late-dir');
    const asked = Date.now();
    const call = createDirectory(lateDir);
    const toast = approvalToast(page, lateDir);
    await toast.waitFor({ state: 'visible', timeout: 15_000 });
    const result = await call;
    const waited = (Date.now() - asked) / 1000;
    assert.equal(result.isError, true, JSON.stringify(result));
    assert.match(resultText(result), new RegExp(`^\\[POLICY APPROVAL REJECTED\\] create_directory: no answer in VS Code within ${APPROVAL_TIMEOUT_S} s`));
    assert.ok(waited >= APPROVAL_TIMEOUT_S - 0.5 && waited < APPROVAL_TIMEOUT_S + 10, `rejected after ${waited.toFixed(1)} s`);
    // The toast ends with the request: no answers are left on screen that would not count.
    await toast.waitFor({ state: 'hidden', timeout: 10_000 });
    assert.equal(existsSync(lateDir), false, 'the late Approve reached the server');
    await ui!.screenshot('workflows-1c-timed-out');
  });

  await step('2. Allow This Tool on a denied decision edits the policy; after the reload the call is allowed', async () => {
    const target = join(dataDir, 'allowed.txt');
    const denied = await client.callTool({ name: 'write_file', arguments: { path: target, content: 'written after Allow This Tool\n' } });
    assert.equal(denied.isError, true, JSON.stringify(denied));
    assert.match(resultText(denied), /^\[POLICY DENIED\] write_file: /);
    assert.equal(existsSync(target), false, 'the denied call reached the server');

    const row = decisionRow('Denied: write_file on fs');
    await row.waitFor({ state: 'visible', timeout: 10_000 });
    const reloadsBefore = logCount(server!, /Policy reloaded:/);
    await row.hover();
    await row.getByRole('button', { name: 'Allow This Tool' }).click();

    // Saved to disk: the deny action is gone, and with it the reason that explained the deny.
    const tools = await poll(
      'the policy allowing write_file on disk',
      () => {
        const policy = record(parseJsonc(readFileSync(policyFile, 'utf8'), policyFile), 'the policy');
        const rules = record(policy['tools'], 'tools');
        return record(rules['write_file'], 'tools.write_file')['action'] === undefined ? rules : undefined;
      },
      15_000,
    );
    assert.deepEqual(tools['write_file'], {});
    assert.deepEqual(tools['create_directory'], { action: 'approve', reason: APPROVE_REASON }, 'another rule changed');
    // Allow This Tool ends on the rule it wrote, saved.
    const tab = page.locator('.tabs-container .tab.active', { hasText: 'mcp-policy.json' });
    await tab.waitFor({ state: 'visible', timeout: 10_000 });
    assert.doesNotMatch((await tab.getAttribute('class')) ?? '', /\bdirty\b/, 'the policy editor is left unsaved');
    await ui!.screenshot('workflows-2a-allowed-in-policy');

    await poll('the proxy reloading the policy', () => (logCount(server!, /Policy reloaded:/) > reloadsBefore ? true : undefined), 15_000);
    const allowed = await client.callTool({ name: 'write_file', arguments: { path: target, content: 'written after Allow This Tool\n' } });
    assert.notEqual(allowed.isError, true, JSON.stringify(allowed));
    assert.equal(readFileSync(target, 'utf8'), 'written after Allow This Tool\n');
    await decisionRow('Allowed: write_file on fs').waitFor({ state: 'visible', timeout: 10_000 });
    await ui!.screenshot('workflows-2b-allowed-call');
  });

  await step('3. Export Decisions writes one JSON line per decision through the save dialog', async () => {
    const exported = join(temp, 'exported-decisions.jsonl');
    await decisions.locator('.pane-header').getByRole('button', { name: 'Export Decisions' }).click();
    // code-server's save dialog is VS Code's simple one: a quick input holding a path.
    const input = page.locator('.quick-input-widget input.input');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    // Offered in the home folder, not the workspace: an export holds the calls' arguments.
    await expectValue(input, new RegExp(`^${escapeRegExp(server!.dirs.home)}/mcp-policy-decisions-[\\d-]+\\.jsonl$`), 10_000);
    await ui!.screenshot('workflows-3a-save-dialog');
    await input.fill(exported);
    // The dialog lists the folder typed (temp: data/, workspace/) and ignores Enter while it
    // updates: wait for the listing, then accept (again, should it still have been busy).
    const dialog = page.locator('.quick-input-widget');
    // By aria-label: a reused row keeps the hidden text of an earlier separator ("similar commands").
    await dialog.locator('.monaco-list-row[aria-label="data"]').waitFor({ state: 'visible', timeout: 10_000 });
    const acceptBy = Date.now() + 10_000;
    for (;;) {
      await input.press('Enter');
      try {
        await dialog.waitFor({ state: 'hidden', timeout: 1_000 });
        break;
      } catch (error) {
        if (Date.now() > acceptBy) throw error;
        assert.equal(await input.inputValue(), exported, 'the save dialog changed the path typed');
      }
    }
    await ui!.waitForNotification(/Exported 5 decisions to /, 10_000);
    const text = await poll('the exported file', () => readNonEmpty(exported), 10_000);
    assert.ok(text.endsWith('\n'), 'the last line is not terminated');
    const lines = text.slice(0, -1).split('\n');
    const events = lines.map((line, i) => record(JSON.parse(line) as unknown, `line ${i + 1}`));
    // Oldest first, as an audit log reads.
    assert.deepEqual(
      events.map((e) => [e['server'], e['tool'], e['decision'], e['reason'], e['rule']]),
      [
        ['fs', 'create_directory', 'approved', `approved by VS Code (${APPROVE_REASON})`, 'tools.create_directory'],
        ['fs', 'create_directory', 'rejected', 'denied in VS Code', 'tools.create_directory'],
        ['fs', 'create_directory', 'rejected', `no answer in VS Code within ${APPROVAL_TIMEOUT_S} s`, 'tools.create_directory'],
        ['fs', 'write_file', 'denied', DENY_REASON, 'tools.write_file'],
        ['fs', 'write_file', 'allowed', 'allowed by the rule "write_file"', 'tools.write_file'],
      ],
    );
    assert.deepEqual(
      events.map((e) => record(e['arguments'], 'arguments')['path']),
      ['approved-dir', 'denied-dir', 'late-dir', 'allowed.txt', 'allowed.txt'].map((name) => join(dataDir, name)),
    );
    assert.equal(new Set(events.map((e) => e['id'])).size, 5, 'decision ids repeat');
    await ui!.screenshot('workflows-3b-exported');
  });

  await step('4. Create Policy from Catalog in a workspace with only a catalog writes a starting policy', async () => {
    await mcp?.close();
    mcp = undefined;
    const catalogWorkspace = join(temp, 'catalog-only');
    mkdirSync(catalogWorkspace, { recursive: true });
    const schema = { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] };
    const catalog = catalogFromToolsList(
      'files',
      [
        { name: 'read_text_file', description: 'Read a text file', inputSchema: schema },
        { name: 'write_file', description: 'Write a file', inputSchema: schema },
        { name: 'delete_file', description: 'Delete a file', inputSchema: schema },
        { name: 'run_command', description: 'Run a shell command', inputSchema: { type: 'object' } },
        { name: 'stat', description: 'Something', inputSchema: schema, annotations: { readOnlyHint: true } },
      ],
      { name: 'files', version: '1.0.0' },
    );
    const risks = Object.fromEntries((catalog.servers['files']?.tools ?? []).map((tool) => [tool.name, tool.risk]));
    assert.deepEqual(
      Object.fromEntries(Object.entries(risks).map(([name, risk]) => [name, risk?.class])),
      { read_text_file: 'read', write_file: 'write', delete_file: 'destructive', run_command: 'execute', stat: 'read' },
      'the catalog does not cover every risk class',
    );
    writeFileSync(join(catalogWorkspace, 'mcp-policy.catalog.json'), `${JSON.stringify(catalog, null, 2)}\n`);
    const written = join(catalogWorkspace, '.vscode', 'mcp-policy.json');

    // A second window of the same code-server, in a fresh browser (the first one's page stays
    // as it was: no navigation away from a window whose proxy is running).
    await ui!.close();
    ui = await launchBrowser({ screenshotsDir });
    await ui.openWorkbench(`${server!.url}?folder=${encodeURIComponent(catalogWorkspace)}`);
    await ui.runCommand('MCP Policy: Create Policy from Catalog');
    const text = await poll('the starting policy', () => readNonEmpty(written), 20_000);
    await ui.page.locator('.tabs-container .tab.active', { hasText: 'mcp-policy.json' }).waitFor({ state: 'visible', timeout: 10_000 });
    await ui.screenshot('workflows-4-starting-policy');

    const policy = record(parseJsonc(text, written), 'the starting policy');
    assert.equal(policy['version'], '1');
    assert.equal(policy['default'], 'deny');
    assert.equal(policy['callable_only'], true, 'the starting policy lists only callable tools');
    assert.deepEqual(policy['catalog'], ['../mcp-policy.catalog.json']);
    const servers = record(policy['servers'], 'servers');
    assert.deepEqual(Object.keys(servers), ['files']);
    const files = record(servers['files'], 'servers.files');
    assert.equal(files['upstream'], undefined, 'an upstream out of nowhere');
    const writeLimit = [{ counter: 'files_writes', window: 'minute', max: 20 }];
    const actionLimit = [{ counter: 'files_actions', window: 'minute', max: 5 }];
    assert.deepEqual(files['tools'], {
      delete_file: { action: 'approve', reason: `destructive (high): ${risks['delete_file']?.why}`, limits: actionLimit, validate_input: true },
      read_text_file: {},
      run_command: { action: 'approve', reason: `execute (critical): ${risks['run_command']?.why}`, limits: actionLimit, validate_input: true },
      stat: {},
      write_file: { limits: writeLimit, validate_input: true },
    });
  });

  t.diagnostic(`scenario: ${((Date.now() - started) / 1000).toFixed(1)} s from opening the workbench`);
});

/** Waits until an input's value matches. */
async function expectValue(input: Locator, pattern: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    last = await input.inputValue().catch(() => '');
    if (pattern.test(last)) return;
    if (Date.now() > deadline) throw new Error(`expected the input to hold ${String(pattern)}, saw "${last}"`);
    await input.page().waitForTimeout(100);
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
