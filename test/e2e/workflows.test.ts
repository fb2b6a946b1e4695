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
import { test } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { parse, printParseErrorCode, type ParseError } from 'jsonc-parser';
import type { Locator } from 'playwright-core';
import { catalogFromToolsList } from '../../core';
import { expectText, filesystemPolicyText, freePort, makeWorkspaceAndData, usePackagedExtension } from './extensionFixture';
import { acceptSaveDialog, approvalSettings, approvalToast, logCount, openExportDialog, openWorkbenchSession, poll, readNonEmpty, resultText, rowByLabel, showDecisions, startProxyAndConnect, waitForPolicyReload } from './workbenchSession';

/**
 * mcpPolicy.approval.timeoutSeconds for the run: short so the unanswered call is cheap, long
 * enough that Playwright clicks Approve / Deny well within it.
 */
const APPROVAL_TIMEOUT_S = 4;
const APPROVE_REASON = 'New folders need a human';
const DENY_REASON = 'Agents may look at the files, never change them';

const extension = usePackagedExtension('mcp-policy-e2e-workflows-');

function policyText(dataDir: string): string {
  return filesystemPolicyText(dataDir, {
    list_directory: {},
    create_directory: { action: 'approve', reason: APPROVE_REASON },
    write_file: { action: 'deny', reason: DENY_REASON },
  });
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

test('workflows in a real VS Code: approval, Allow This Tool, Export Decisions, Create Policy from Catalog', { timeout: 240_000 }, async (t) => {
  if (extension.skipReason) {
    t.skip(extension.skipReason);
    return;
  }
  const { temp } = extension;
  const { workspace, dataDir } = makeWorkspaceAndData(temp);
  const policyFile = join(workspace, 'mcp-policy.json');
  writeFileSync(policyFile, policyText(dataDir));

  const port = await freePort();
  let started = 0;
  const session = await openWorkbenchSession(t, {
    vsix: extension.vsix,
    workspace,
    settings: approvalSettings(port, APPROVAL_TIMEOUT_S),
    shotPrefix: 'workflows',
    beforeOpen: async () => {
      started = Date.now();
    },
  });
  const { server, page, step, statusItem } = session;
  await statusItem.waitFor({ state: 'visible', timeout: 30_000 });

  const client = await startProxyAndConnect(session, port, 'fs', 'e2e-workflows');
  const createDirectory = (path: string): ReturnType<Client['callTool']> => client.callTool({ name: 'create_directory', arguments: { path } });

  const decisions = await showDecisions(session.ui);
  /** The Decisions row whose accessible label starts with e.g. "Approved: create_directory". */
  const decisionRow = (label: string): Locator => rowByLabel(decisions, label);

  await step('1a. an "approve" rule asks in a notification; Approve forwards the call', async () => {
    const approvedDir = join(dataDir, 'approved-dir');
    const call = createDirectory(approvedDir);
    const toast = approvalToast(page, 'create_directory', approvedDir);
    await toast.waitFor({ state: 'visible', timeout: 15_000 });
    assert.match(await toast.innerText(), new RegExp(`${APPROVE_REASON}\\.`));
    await session.ui.screenshot('workflows-1a-approval-asked');
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
    await session.ui.screenshot('workflows-1a-approved');
  });

  await step('1b. Deny rejects the call and the server never sees it', async () => {
    const deniedDir = join(dataDir, 'denied-dir');
    const call = createDirectory(deniedDir);
    const toast = approvalToast(page, 'create_directory', deniedDir);
    await toast.waitFor({ state: 'visible', timeout: 15_000 });
    await toast.getByRole('link', { name: 'Deny', exact: true }).click();
    const result = await call;
    assert.equal(result.isError, true, JSON.stringify(result));
    assert.match(resultText(result), /^\[POLICY APPROVAL REJECTED\] create_directory: denied in VS Code/);
    assert.equal(existsSync(deniedDir), false, 'the denied call reached the server');
    await decisionRow('Approval rejected: create_directory on fs, denied in VS Code').waitFor({ state: 'visible', timeout: 10_000 });
    await session.ui.screenshot('workflows-1b-denied');
  });

  await step(`1c. no answer rejects the call after mcpPolicy.approval.timeoutSeconds (${APPROVAL_TIMEOUT_S} s)`, async () => {
    const lateDir = join(dataDir, 'late-dir');
    const asked = Date.now();
    const call = createDirectory(lateDir);
    const toast = approvalToast(page, 'create_directory', lateDir);
    await toast.waitFor({ state: 'visible', timeout: 15_000 });
    const result = await call;
    const waited = (Date.now() - asked) / 1000;
    assert.equal(result.isError, true, JSON.stringify(result));
    assert.match(resultText(result), new RegExp(`^\\[POLICY APPROVAL REJECTED\\] create_directory: no answer in VS Code within ${APPROVAL_TIMEOUT_S} s`));
    assert.ok(waited >= APPROVAL_TIMEOUT_S - 0.5 && waited < APPROVAL_TIMEOUT_S + 10, `rejected after ${waited.toFixed(1)} s`);
    // The toast ends with the request: no answers are left on screen that would not count.
    await toast.waitFor({ state: 'hidden', timeout: 10_000 });
    assert.equal(existsSync(lateDir), false, 'the late Approve reached the server');
    await session.ui.screenshot('workflows-1c-timed-out');
  });

  await step('2. Allow This Tool on a denied decision edits the policy; after the reload the call is allowed', async () => {
    const target = join(dataDir, 'allowed.txt');
    const denied = await client.callTool({ name: 'write_file', arguments: { path: target, content: 'written after Allow This Tool\n' } });
    assert.equal(denied.isError, true, JSON.stringify(denied));
    assert.match(resultText(denied), /^\[POLICY DENIED\] write_file: /);
    assert.equal(existsSync(target), false, 'the denied call reached the server');

    const row = decisionRow('Denied: write_file on fs');
    await row.waitFor({ state: 'visible', timeout: 10_000 });
    const reloadsBefore = logCount(server, /Policy reloaded:/);
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
    await session.ui.screenshot('workflows-2a-allowed-in-policy');

    await waitForPolicyReload(server, reloadsBefore);
    const allowed = await client.callTool({ name: 'write_file', arguments: { path: target, content: 'written after Allow This Tool\n' } });
    assert.notEqual(allowed.isError, true, JSON.stringify(allowed));
    assert.equal(readFileSync(target, 'utf8'), 'written after Allow This Tool\n');
    await decisionRow('Allowed: write_file on fs').waitFor({ state: 'visible', timeout: 10_000 });
    await session.ui.screenshot('workflows-2b-allowed-call');
  });

  await step('3. Export Decisions writes one JSON line per decision through the save dialog', async () => {
    const exported = join(temp, 'exported-decisions.jsonl');
    const input = await openExportDialog(decisions, server.dirs.home);
    await session.ui.screenshot('workflows-3a-save-dialog');
    // The dialog lists the folder typed (temp: data/, workspace/).
    await acceptSaveDialog(page, exported, 'data', async () => {
      assert.equal(await input.inputValue(), exported, 'the save dialog changed the path typed');
    });
    await session.ui.waitForNotification(/Exported 5 decisions to /, 10_000);
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
    await session.ui.screenshot('workflows-3b-exported');
  });

  await step('3c. the empty Tool Catalog offers Refresh Tool Catalog as a button; it writes the catalog and the view lists the tools', async () => {
    const toolCatalog = page.locator('.pane').filter({ has: page.locator('.pane-header', { hasText: 'Tool Catalog' }) });
    const header = toolCatalog.locator('.pane-header');
    if ((await header.getAttribute('aria-expanded')) !== 'true') await header.click();
    const button = toolCatalog.locator('.monaco-button', { hasText: 'Refresh Tool Catalog' });
    await button.waitFor({ state: 'visible', timeout: 15_000 });
    await expectText(toolCatalog.locator('.pane-body'), /No tool catalog yet/, 10_000);
    await session.ui.screenshot('workflows-3c-empty-catalog');
    await button.click();
    const catalogFile = join(workspace, 'mcp-policy.catalog.json');
    await poll('the refreshed catalog', () => readNonEmpty(catalogFile), 60_000);
    await toolCatalog.locator('.monaco-list-row', { hasText: 'create_directory' }).first().waitFor({ state: 'visible', timeout: 20_000 });
    await session.ui.screenshot('workflows-3c-catalog-refreshed');
  });

  await step('4. Create Policy from Catalog in a workspace with only a catalog writes a starting policy', async () => {
    await client.close();
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
    const ui = await session.reopen(`${server.url}?folder=${encodeURIComponent(catalogWorkspace)}`);
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
