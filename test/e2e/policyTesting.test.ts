// End-to-end: testing and replaying a policy in a real VS Code (code-server 4.139.1), one
// code-server for all steps:
//
//   0. a folder with only a tsconfig.json, the file open: the extension never activates;
//   1. the bundled CRM example's tests in VS Code's Testing view: all pass; a broken rule makes
//      the test that covers it fail, with its message at its line;
//   2. the Evaluate code lens on a rule shows how a call to it is decided;
//   3. calls recorded through the extension's local proxy (guarding the demo CRM server), the
//      campaign limit tightened from 2 to 1 in the editor, unsaved: Replay lists exactly the
//      call that changes;
//   4. a reload that adds a server whose command is missing: reported at once, the other
//      server keeps serving; Stop clears the status bar's warning.
//
// Screenshots go to test-results/e2e/policy-testing-*.png.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Locator } from 'playwright-core';
import { repoRoot } from './codeServer';
import { EXTENSION_ID, expectText, freePort, usePackagedExtension } from './extensionFixture';
import { decisionsPane, openWorkbenchSession, startProxyAndConnect } from './workbenchSession';

const root = repoRoot();
const SENDS_LIMIT = '"counter": "campaign_sends", "window": "minute", "max": 2';
const FAILING_TEST = 'two sends a minute: the third waits until the first leaves the window';

const extension = usePackagedExtension('mcp-policy-e2e-policy-testing-');

/** The example policy, guarding the demo CRM server by absolute paths. */
function examplePolicy(): string {
  const text = readFileSync(join(root, 'examples', 'crm', 'mcp-policy.json'), 'utf8');
  const upstream = `"upstream": { "command": ${JSON.stringify(process.execPath)}, "args": [${JSON.stringify(join(root, 'dist', 'demo-crm-server.js'))}] }`;
  const replaced = text.replace(/"upstream": \{ "command": "node", "args": \["\.\.\/\.\.\/dist\/demo-crm-server\.js"\] \}/, upstream).replace(/\s*"\$schema": "[^"]*",/, '');
  assert.notEqual(replaced, text);
  assert.ok(replaced.includes(SENDS_LIMIT), 'the example no longer has the campaign limit this test tightens');
  return replaced;
}

test('policy tests, Evaluate and Replay in a real VS Code; no activation in an unrelated folder', { timeout: 300_000 }, async (t) => {
  if (extension.skipReason) {
    t.skip(extension.skipReason);
    return;
  }
  const { temp } = extension;
  const unrelated = join(temp, 'unrelated');
  mkdirSync(unrelated, { recursive: true });
  writeFileSync(join(unrelated, 'tsconfig.json'), '{\n  // a TypeScript project, nothing to do with MCP\n  "compilerOptions": { "strict": true }\n}\n');
  const workspace = join(temp, 'workspace');
  mkdirSync(workspace, { recursive: true });
  const policyFile = join(workspace, 'mcp-policy.json');
  writeFileSync(policyFile, examplePolicy());
  copyFileSync(join(root, 'examples', 'crm', 'mcp-policy.catalog.json'), join(workspace, 'mcp-policy.catalog.json'));

  const port = await freePort();
  const session = await openWorkbenchSession(t, {
    vsix: extension.vsix,
    workspace,
    settings: { 'mcpPolicy.proxy.port': port, 'files.autoSave': 'off', 'workbench.view.alwaysShowHeaderActions': true, 'testing.automaticallyOpenPeekView': 'failureAnywhere' },
    shotPrefix: 'policy-testing',
    logFilter: /MCP Policy|exthost/,
    // Step 0 opens an unrelated folder first.
    openWorkbench: false,
  });
  const { server, ui, page, step, statusItem } = session;
  let mcp: Client | undefined;

  /** Quick Open (Ctrl+P) a file of the folder by name. */
  const openFile = async (name: string): Promise<void> => {
    await page.keyboard.press('Control+P');
    const input = page.locator('.quick-input-widget input.input');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill(name);
    await page.locator('.quick-input-widget .monaco-list-row').filter({ hasText: name }).first().waitFor({ state: 'visible', timeout: 15_000 });
    await input.press('Enter');
    await page.locator('.tab.active').filter({ hasText: name }).waitFor({ state: 'visible', timeout: 15_000 });
  };

  /** Scrolls the policy editor to a line (Ctrl+G), so its text is in the rendered lines. */
  const showLine = async (line: number): Promise<void> => {
    await page.locator('.editor-instance .view-lines').first().click();
    await page.keyboard.press('Control+G');
    const input = page.locator('.quick-input-widget input.input');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill(`:${line}`);
    await input.press('Enter');
  };
  const limitLine = examplePolicy().split('\n').findIndex((text) => text.includes(SENDS_LIMIT)) + 1;

  await step('0. a folder with only a tsconfig.json, opened in the editor, never activates the extension', async () => {
    await ui.openWorkbench(`${server.url}?folder=${encodeURIComponent(unrelated)}`);
    await openFile('tsconfig.json');
    // VS Code's own JSON support activates on the JSON-with-comments file: the language events
    // have fired by then, so an extension listening to them would be active too.
    await server.waitForVscodeLog(/_doActivateExtension vscode\.json-language-features\b/, 60_000);
    await page.locator('.part.statusbar .statusbar-item').first().waitFor({ state: 'visible', timeout: 10_000 });
    assert.doesNotMatch(server.vscodeLogs(), new RegExp(`_doActivateExtension ${EXTENSION_ID.replace('.', '\\.')}\\b`, 'i'));
    assert.equal(await statusItem.count(), 0, 'the MCP Policy status bar item shows in an unrelated folder');
    await ui.screenshot('policy-testing-0-unrelated-folder');
  });

  await ui.openWorkbench(server.workbenchUrl);
  await server.waitForExtensionActivated(EXTENSION_ID, 60_000);
  await statusItem.waitFor({ state: 'visible', timeout: 30_000 });
  await openFile('mcp-policy.json');

  const testingView = page.locator('.pane').filter({ has: page.locator('.pane-header', { hasText: /Test Explorer|Testing/ }) });
  const testRow = (name: string): Locator => page.locator(`.test-explorer .monaco-list-row[aria-label*=${JSON.stringify(name)}]`);

  await step('1a. the Testing view lists the example\'s tests; running them, all pass', async () => {
    await ui.runCommand('Testing: Focus on Test Explorer View');
    const fileRow = page.locator('.test-explorer .monaco-list-row').filter({ hasText: 'mcp-policy.json' }).first();
    await fileRow.waitFor({ state: 'visible', timeout: 30_000 });
    if ((await fileRow.getAttribute('aria-expanded')) !== 'true') await fileRow.click();
    await testRow('reads are allowed').waitFor({ state: 'visible', timeout: 15_000 });
    await ui.runCommand('Test: Run All Tests');
    await expectText(page.locator('.test-explorer'), /reads are allowed/, 10_000);
    const passed = page.locator('.test-explorer .monaco-list-row .codicon-testing-passed-icon');
    await passed.first().waitFor({ state: 'visible', timeout: 30_000 });
    const failed = page.locator('.test-explorer .monaco-list-row .codicon-testing-failed-icon');
    assert.equal(await failed.count(), 0, `tests failed: ${JSON.stringify(await page.locator('.test-explorer .monaco-list-row').evaluateAll((rows) => rows.map((row) => row.getAttribute('aria-label'))))}`);
    await ui.screenshot('policy-testing-1a-all-pass');
  });

  await step('1b. a broken rule: the test that covers it fails, with its message at its line', async () => {
    writeFileSync(policyFile, examplePolicy().replace(SENDS_LIMIT, SENDS_LIMIT.replace('"max": 2', '"max": 3')));
    // The open editor follows the file; the listed tests follow the editor.
    await showLine(limitLine);
    await expectText(page.locator('.editor-instance .view-lines'), /"max": 3/, 15_000);
    await ui.runCommand('Test: Run All Tests');
    const failing = testRow(FAILING_TEST);
    await failing.locator('.codicon-testing-failed-icon').waitFor({ state: 'visible', timeout: 30_000 });
    const peek = page.locator('.test-output-peek, .peekview-widget').first();
    await expectText(peek, /expected rate_limited, got allowed/, 15_000);
    await ui.screenshot('policy-testing-1b-failing-test');
    assert.equal(await testRow('reads are allowed').locator('.codicon-testing-failed-icon').count(), 0);
    await page.keyboard.press('Escape');
    writeFileSync(policyFile, examplePolicy());
    await showLine(limitLine);
    await expectText(page.locator('.editor-instance .view-lines'), /"max": 2/, 15_000);
  });

  await step('2. the Evaluate code lens on a rule shows the decision', async () => {
    await showLine(1);
    const lens = page.locator('.codelens-decoration a', { hasText: 'Evaluate' }).first();
    await lens.waitFor({ state: 'visible', timeout: 30_000 });
    // Lenses are redrawn while the server answers for the scrolled-to lines: a click can land on
    // one being replaced, so it is clicked again until the decision shows.
    let shown = '';
    for (let attempt = 1; !shown; attempt++) {
      await lens.click();
      shown = await ui.waitForNotification(/Evaluate tools\./, 5_000 * attempt).catch((error: unknown) => {
        if (attempt >= 3) throw error;
        return '';
      });
    }
    assert.match(shown, /Evaluate tools\.fluentcrm_list_\*: fluentcrm_list_\w+ on fluentcrm → allowed \(rule tools\.fluentcrm_list_\*\)/);
    await ui.screenshot('policy-testing-2-evaluate');
    // The language client registers the server's command; the extension must not register it again.
    assert.doesNotMatch(server.vscodeLogs(), /command 'mcpPolicy\.evaluate' already exists/);
  });

  await step('3. calls through the local proxy, the campaign limit tightened to 1: Replay shows the call that changes', async () => {
    mcp = await startProxyAndConnect(session, port, 'fluentcrm', 'e2e-policy-testing');
    const listed = await mcp.callTool({ name: 'fluentcrm_list_contacts', arguments: { per_page: 5 } });
    assert.notEqual(listed.isError, true, JSON.stringify(listed));
    for (const campaignId of [5, 6]) {
      const resumed = await mcp.callTool({ name: 'fluentcrm_resume_campaign', arguments: { campaignId } });
      assert.notEqual(resumed.isError, true, JSON.stringify(resumed));
    }
    await ui.runCommand('MCP Policy: Show Decisions');
    const decisions = decisionsPane(page);
    await decisions.locator('.monaco-list-row').nth(2).waitFor({ state: 'visible', timeout: 15_000 });
    await ui.screenshot('policy-testing-3a-decisions');

    // Tightened in the editor only (a draft, not saved): Find/Replace of the campaign limit.
    await showLine(limitLine);
    await page.keyboard.press('Control+H');
    const find = page.locator('.find-widget textarea[aria-label="Find"], .find-widget .find-part textarea').first();
    await find.waitFor({ state: 'visible', timeout: 10_000 });
    await find.fill('"max": 2 }');
    const replaceInput = page.locator('.find-widget textarea[aria-label="Replace"], .find-widget .replace-part textarea').first();
    await replaceInput.fill('"max": 1 }');
    await replaceInput.press('Control+Alt+Enter');
    await page.keyboard.press('Escape');
    await expectText(page.locator('.editor-instance .view-lines'), /"campaign_sends", "window": "minute", "max": 1 \}/, 15_000);
    await page.locator('.tab.active.dirty').filter({ hasText: 'mcp-policy.json' }).waitFor({ state: 'visible', timeout: 5_000 });
    assert.ok(readFileSync(policyFile, 'utf8').includes(SENDS_LIMIT), 'the draft was saved');
    await ui.runCommand('MCP Policy: Replay Decisions Against This Policy');
    const replay = page.locator('.pane').filter({ has: page.locator('.pane-header', { hasText: 'Replay' }) });
    await expectText(replay.locator('.pane-body'), /3 recorded decisions replayed against mcp-policy\.json \(unsaved draft\): 1 change \(allowed → rate_limited: 1\)/, 15_000);
    const group = replay.locator('.monaco-list-row').filter({ hasText: 'allowed → rate_limited' });
    await group.waitFor({ state: 'visible', timeout: 10_000 });
    const rows = replay.locator('.monaco-list-row[aria-label*="fluentcrm_resume_campaign on fluentcrm: allowed → rate_limited"]');
    await rows.first().waitFor({ state: 'visible', timeout: 10_000 });
    assert.equal(await rows.count(), 1, 'exactly the second send changes');
    assert.equal(await replay.locator('.monaco-list-row[aria-label*="fluentcrm_list_contacts"]').count(), 0);
    await ui.screenshot('policy-testing-3b-replay');
    await rows.first().click();
    // The rule that decides now is selected in the policy.
    const ruleLine = examplePolicy().split('\n').findIndex((text) => text.includes('"fluentcrm_resume_campaign": {')) + 1;
    await expectText(page.locator('.part.statusbar'), new RegExp(`Ln ${ruleLine}, Col \\d+ \\(\\d+ selected\\)`), 10_000);
  });

  await step('4. a reload naming an upstream that cannot start is reported at once; the other server keeps serving; Stop clears the warning', async () => {
    await ui.runCommand('File: Revert File');
    await page.locator('.tab.active.dirty').waitFor({ state: 'detached', timeout: 10_000 });
    const broken = examplePolicy().replace('"servers": {', '"servers": {\n    "broken": { "upstream": { "command": "no-such-mcp-server-command" } },');
    writeFileSync(policyFile, broken);
    await expectText(statusItem, /MCP Policy: on · 2 servers/, 30_000);
    await statusItem.locator('.codicon-warning').waitFor({ state: 'visible', timeout: 15_000 });
    await server.waitForVscodeLog(/Server broken: upstream "broken" cannot be started: command not found on PATH: no-such-mcp-server-command/, 10_000);
    await ui.screenshot('policy-testing-4a-reload-problem');
    const listed = await mcp!.callTool({ name: 'fluentcrm_list_contacts', arguments: { per_page: 1 } });
    assert.notEqual(listed.isError, true, `the other server stopped serving: ${JSON.stringify(listed)}`);

    await ui.runCommand('MCP Policy: Stop Local Proxy');
    await expectText(statusItem, /MCP Policy: off/, 30_000);
    assert.equal(await statusItem.locator('.codicon-warning').count(), 0, 'the status bar still warns after Stop');
    await ui.screenshot('policy-testing-4b-stopped');
  });
});
