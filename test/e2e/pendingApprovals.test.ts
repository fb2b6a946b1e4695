// End-to-end: pending approvals in a real VS Code (code-server 4.139.1) driven by Playwright in
// Debian's Chromium. An MCP SDK client in this test calls the extension's local proxy, which
// guards @modelcontextprotocol/server-filesystem over a temp folder; whether a call reached the
// server is read off that folder.
//
//   1. Do Not Disturb on: an approve call waits under Pending (countdown, full arguments, the
//      rule's reason), with a status bar badge and no toast; its arguments open as a read-only
//      JSON document; Approve from the view forwards it.
//   2. Notifications on: the toast offers the answers as links, and closes when the view
//      answers; its Approve link answers too. A click on the badge focuses the Pending group.
//   3. Always Allow from the view writes the allow rule through the language server and
//      forwards the call; the next one is allowed without asking.
//   4. A timed-out approval leaves the Pending group and its toast closes.
//
// Screenshots go to test-results/e2e/pending-*.png.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { parse } from 'jsonc-parser';
import type { Locator } from 'playwright-core';
import { expectText, makeWorkspaceAndData, filesystemPolicyText, freePort, usePackagedExtension } from './extensionFixture';
import { approvalSettings, approvalToast, decisionsPane, escapeRegExp, logCount, openWorkbenchSession, poll, resultText, rowByLabel, showDecisions, startProxyAndConnect, waitForPolicyReload } from './workbenchSession';

/** Long enough to look, open the arguments and answer under load; step 4 shortens it in the policy. */
const APPROVAL_TIMEOUT_S = 60;
const SHORT_TIMEOUT_S = 8;
const APPROVE_REASON = 'New folders need a human';
const WRITE_REASON = 'Writes need a human';

const extension = usePackagedExtension('mcp-policy-e2e-pending-');

function policyText(dataDir: string, options: { writeAllowed?: boolean; timeout?: number } = {}): string {
  return filesystemPolicyText(
    dataDir,
    {
      list_directory: {},
      create_directory: { action: 'approve', reason: APPROVE_REASON },
      write_file: options.writeAllowed ? {} : { action: 'approve', reason: WRITE_REASON },
    },
    options.timeout ? { timeout: options.timeout } : undefined,
  );
}

test('pending approvals in a real VS Code: Pending group, badge, notification, Always Allow, timeout', { timeout: 300_000 }, async (t) => {
  if (extension.skipReason) {
    t.skip(extension.skipReason);
    return;
  }
  const { workspace, dataDir } = makeWorkspaceAndData(extension.temp);
  const policyFile = join(workspace, 'mcp-policy.json');
  writeFileSync(policyFile, policyText(dataDir));

  const port = await freePort();
  const session = await openWorkbenchSession(t, {
    vsix: extension.vsix,
    workspace,
    settings: approvalSettings(port, APPROVAL_TIMEOUT_S),
    shotPrefix: 'pending',
    failureDetails: async (page) => {
      const rows = await decisionsPane(page).locator('.monaco-list-row').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label'))).catch(() => []);
      return [`rows: ${JSON.stringify(rows)}`];
    },
  });
  const { server, ui, page, step, statusItem } = session;
  await statusItem.waitFor({ state: 'visible', timeout: 30_000 });
  const badge = page.locator('.part.statusbar .statusbar-item').filter({ hasText: /\d+ approvals? pending/ });

  const client = await startProxyAndConnect(session, port, 'fs', 'e2e-pending');
  const createDirectory = (path: string): ReturnType<Client['callTool']> => client.callTool({ name: 'create_directory', arguments: { path } });

  const decisions = await showDecisions(ui);
  const row = (label: string): Locator => rowByLabel(decisions, label);
  const pendingRow = (tool: string): Locator => row(`Pending approval: ${tool} on fs`);
  const pendingGroup = row('Pending: ');
  /** Clicks an inline action of a row (they show on hover). */
  const inline = async (target: Locator, action: string): Promise<void> => {
    await target.hover();
    await target.getByRole('button', { name: action, exact: true }).click();
  };

  let doNotDisturb = false;
  const toggleDoNotDisturb = async (on: boolean): Promise<void> => {
    if (doNotDisturb === on) return;
    await ui.runCommand('Notifications: Toggle Do Not Disturb Mode');
    doNotDisturb = on;
  };

  // Longer than the 400 characters the old toast showed, in one argument.
  const longDir = join(dataDir, 'a'.repeat(150), 'b'.repeat(150), 'c'.repeat(150), 'approved-in-the-view');

  await step('1a. Do Not Disturb: an approve call waits under Pending with its countdown, reason and full arguments; a badge, no toast', async () => {
    await toggleDoNotDisturb(true);
    const call = createDirectory(longDir);
    const item = pendingRow('create_directory');
    await item.waitFor({ state: 'visible', timeout: 15_000 });
    await expectText(pendingGroup, /Pending\s*1 waiting for approval/, 5_000);
    const description = item.locator('.label-description');
    const first = await description.innerText();
    const seconds = Number(/^(\d+) s left · fs · New folders need a human$/.exec(first)?.[1]);
    assert.ok(seconds > 0 && seconds <= APPROVAL_TIMEOUT_S, `the row says "${first}"`);
    // The countdown runs: the row is redrawn with fewer seconds left.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const now = Number(/(\d+) s left/.exec(await description.innerText())?.[1]);
      if (now < seconds) break;
      if (Date.now() > deadline) throw new Error(`the countdown stayed at ${seconds} s`);
      await page.waitForTimeout(250);
    }
    // The full path, in the argument's row.
    const argument = row('Argument path: ');
    await argument.waitFor({ state: 'visible', timeout: 5_000 });
    assert.equal(await argument.getAttribute('aria-label'), `Argument path: ${JSON.stringify(longDir)}`);
    await expectText(badge, /1 approval pending/, 5_000);
    assert.equal(await approvalToast(page, 'create_directory', 'approved-in-the-view').count(), 0, 'a toast showed in Do Not Disturb');
    assert.equal(existsSync(longDir), false, 'the call was forwarded before it was approved');
    await ui.screenshot('pending-1a-do-not-disturb');

    // A click on the approval opens its arguments as a read-only JSON document.
    await item.locator('.label-name').click();
    const tab = page.locator('.tabs-container .tab.active', { hasText: 'create_directory arguments.json' });
    await tab.waitFor({ state: 'visible', timeout: 10_000 });
    const editor = page.locator('.editor-group-container.active .monaco-editor .view-lines');
    await expectText(editor, new RegExp(escapeRegExp(longDir.slice(-60))), 10_000);
    const text = (await editor.innerText()).replace(/\u00a0/g, ' ');
    assert.ok(text.includes(longDir), `the document does not hold the whole path: ${text}`);
    await editor.click();
    await page.keyboard.type('x');
    await page.locator('.monaco-editor-overlaymessage').filter({ hasText: /read-only/i }).waitFor({ state: 'visible', timeout: 5_000 });
    await ui.screenshot('pending-1b-arguments-document');

    // Approve from the view.
    await inline(item, 'Approve');
    const result = await call;
    assert.notEqual(result.isError, true, JSON.stringify(result));
    assert.ok(existsSync(longDir) && statSync(longDir).isDirectory(), 'the approved call did not reach the server');
    await item.waitFor({ state: 'hidden', timeout: 10_000 });
    await pendingGroup.waitFor({ state: 'hidden', timeout: 10_000 });
    await badge.waitFor({ state: 'hidden', timeout: 10_000 });
    await row('Approved: create_directory on fs').waitFor({ state: 'visible', timeout: 10_000 });
    await ui.screenshot('pending-1c-approved-from-the-view');
  });

  await step('2. notifications on: the toast offers the answers, and closes when the view answers; its Approve link answers too', async () => {
    await toggleDoNotDisturb(false);
    const deniedDir = join(dataDir, 'denied-in-the-view');
    const denied = createDirectory(deniedDir);
    const toast = approvalToast(page, 'create_directory', deniedDir);
    await toast.waitFor({ state: 'visible', timeout: 15_000 });
    assert.match(await toast.innerText(), new RegExp(`${APPROVE_REASON}\\.`));
    for (const answer of ['Approve', 'Deny', 'Always Allow', 'Show Arguments']) {
      await toast.getByRole('link', { name: answer, exact: true }).waitFor({ state: 'visible', timeout: 5_000 });
    }
    // Cancel (the progress notification's own button) rejects too; with a button the toast opens expanded.
    await toast.getByRole('button', { name: 'Cancel', exact: true }).waitFor({ state: 'visible', timeout: 5_000 });
    // The badge brings the Pending group back from another view.
    await ui.runCommand('View: Show Explorer');
    await pendingGroup.waitFor({ state: 'hidden', timeout: 10_000 });
    await badge.click();
    await pendingGroup.waitFor({ state: 'visible', timeout: 10_000 });
    await expectAttribute(pendingGroup, 'aria-selected', 'true', 10_000);
    // Revealing into a view that was hidden races its refresh; the user must not see the tree's error.
    assert.equal(await page.locator('.notifications-toasts .notification-toast').filter({ hasText: 'TreeError' }).count(), 0, 'revealing the Pending group showed an error');
    await pendingRow('create_directory').waitFor({ state: 'visible', timeout: 10_000 });
    await ui.screenshot('pending-2a-toast-and-view');
    await inline(pendingRow('create_directory'), 'Deny');
    const result = await denied;
    assert.equal(result.isError, true, JSON.stringify(result));
    assert.match(resultText(result), /^\[POLICY APPROVAL REJECTED\] create_directory: denied in VS Code/);
    assert.equal(existsSync(deniedDir), false, 'the denied call reached the server');
    await toast.waitFor({ state: 'hidden', timeout: 10_000 });
    await ui.screenshot('pending-2b-toast-closed');

    const linkDir = join(dataDir, 'approved-in-the-toast');
    const approved = createDirectory(linkDir);
    const linkToast = approvalToast(page, 'create_directory', linkDir);
    await linkToast.waitFor({ state: 'visible', timeout: 15_000 });
    await linkToast.getByRole('link', { name: 'Approve', exact: true }).click();
    const ok = await approved;
    assert.notEqual(ok.isError, true, JSON.stringify(ok));
    assert.ok(existsSync(linkDir), 'the call approved in the toast did not reach the server');
    await linkToast.waitFor({ state: 'hidden', timeout: 10_000 });
    await pendingRow('create_directory').waitFor({ state: 'hidden', timeout: 10_000 });
  });

  await step('3. Always Allow from the view writes the allow rule and forwards the call; the next one is not asked', async () => {
    const file = join(dataDir, 'always.txt');
    const reloadsBefore = logCount(server, /Policy reloaded:/);
    const call = client.callTool({ name: 'write_file', arguments: { path: file, content: 'first\n' } });
    const item = pendingRow('write_file');
    await item.waitFor({ state: 'visible', timeout: 15_000 });
    await inline(item, 'Always Allow');
    const result = await call;
    assert.notEqual(result.isError, true, JSON.stringify(result));
    assert.equal(readFileSync(file, 'utf8'), 'first\n');
    const tools = await poll(
      'the policy allowing write_file on disk',
      () => {
        const policy = parse(readFileSync(policyFile, 'utf8')) as { tools?: Record<string, unknown> } | undefined;
        const rule = policy?.tools?.['write_file'] as Record<string, unknown> | undefined;
        return rule && rule['action'] === undefined ? policy?.tools : undefined;
      },
      15_000,
    );
    assert.deepEqual(tools['write_file'], {}, 'the approve action and its reason stay');
    assert.deepEqual(tools['create_directory'], { action: 'approve', reason: APPROVE_REASON }, 'another rule changed');
    await ui.screenshot('pending-3a-always-allowed');

    await waitForPolicyReload(server, reloadsBefore);
    const next = await client.callTool({ name: 'write_file', arguments: { path: file, content: 'second\n' } });
    assert.notEqual(next.isError, true, JSON.stringify(next));
    assert.equal(readFileSync(file, 'utf8'), 'second\n');
    await row('Allowed: write_file on fs').waitFor({ state: 'visible', timeout: 10_000 });
  });

  await step(`4. an approval nobody answers (approval.timeout ${SHORT_TIMEOUT_S} s) leaves the Pending group, and its toast closes`, async () => {
    const reloadsBefore = logCount(server, /Policy reloaded:/);
    writeFileSync(policyFile, policyText(dataDir, { writeAllowed: true, timeout: SHORT_TIMEOUT_S }));
    await waitForPolicyReload(server, reloadsBefore);
    const lateDir = join(dataDir, 'nobody-answered');
    const call = createDirectory(lateDir);
    const toast = approvalToast(page, 'create_directory', lateDir);
    const item = pendingRow('create_directory');
    await Promise.all([toast.waitFor({ state: 'visible', timeout: SHORT_TIMEOUT_S * 1000 }), item.waitFor({ state: 'visible', timeout: SHORT_TIMEOUT_S * 1000 })]);
    await ui.screenshot('pending-4a-waiting');
    const result = await call;
    assert.equal(result.isError, true, JSON.stringify(result));
    assert.match(resultText(result), new RegExp(`^\\[POLICY APPROVAL REJECTED\\] create_directory: no answer (in VS Code|from the approver) within ${SHORT_TIMEOUT_S} s`));
    assert.equal(existsSync(lateDir), false, 'the unanswered call reached the server');
    await item.waitFor({ state: 'hidden', timeout: 10_000 });
    await pendingGroup.waitFor({ state: 'hidden', timeout: 10_000 });
    await toast.waitFor({ state: 'hidden', timeout: 10_000 });
    await badge.waitFor({ state: 'hidden', timeout: 10_000 });
    await row('Approval rejected: create_directory on fs, no answer').waitFor({ state: 'visible', timeout: 10_000 });
    await ui.screenshot('pending-4b-timed-out');
  });
});

async function expectAttribute(locator: Locator, name: string, value: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen = await locator.getAttribute(name).catch(() => null);
    if (seen === value) return;
    if (Date.now() > deadline) throw new Error(`expected ${name}="${value}", saw ${String(seen)}`);
    await locator.page().waitForTimeout(100);
  }
}
