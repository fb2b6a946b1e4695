// End-to-end: the security promise for untrusted workspaces. In VS Code's Restricted Mode the
// policy's language features work, and no process the policy names (servers.*.upstream.command)
// is ever started: not by auto start, Start Local Proxy, Toggle Local Proxy, the Decisions
// view's Start button or Refresh Tool Catalog.
//
// The policy's upstream is a canary script that, if it ever runs, writes a marker file and stays
// alive like a server would. A second test opens the same kind of workspace trusted and shows the
// canary does run there (auto start listens on the port, Refresh Tool Catalog runs the command),
// so the first test's "nothing happened" cannot come from a broken canary or ignored settings.
//
// Screenshots go to test-results/e2e/untrusted-*.png (git-ignored, kept as CI artifacts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { catalogFromToolsList } from '../../core';
import { repoRoot, type CodeServer, type Workbench } from './codeServer';
import { expectText, freePort, usePackagedExtension } from './extensionFixture';
import { openWorkbenchSession } from './workbenchSession';

const root = repoRoot();

/** The commands that start what the policy names, as the palette shows them. */
const STARTING_COMMANDS = ['MCP Policy: Start Local Proxy', 'MCP Policy: Toggle Local Proxy', 'MCP Policy: Refresh Tool Catalog'] as const;

const extension = usePackagedExtension('mcp-policy-e2e-untrusted-');

interface CanaryWorkspace {
  workspace: string;
  canary: string;
  /** Written by the canary when (if) it runs. */
  marker: string;
}

/**
 * A workspace whose policy guards one server, "canary", whose command is `node <canary.js>`;
 * a misspelled tool rule ("read_txt_file") and a catalog beside the policy for the diagnostic.
 */
function canaryWorkspace(name: string): CanaryWorkspace {
  const dir = join(extension.temp, name);
  const workspace = join(dir, 'workspace');
  mkdirSync(workspace, { recursive: true });
  const canary = join(dir, 'canary.js');
  const marker = join(dir, 'canary-ran');
  writeFileSync(
    canary,
    [
      "'use strict';",
      `require('node:fs').writeFileSync(${JSON.stringify(marker)}, process.pid + ' ' + process.argv.slice(1).join(' ') + '\\n');`,
      '// Stay alive like a stdio server would.',
      'setInterval(() => undefined, 60_000);',
      '',
    ].join('\n'),
  );
  const policy = {
    version: '1',
    default: 'deny',
    tools: { read_txt_file: {} },
    servers: { canary: { upstream: { command: process.execPath, args: [canary] } } },
  };
  writeFileSync(join(workspace, 'mcp-policy.json'), `${JSON.stringify(policy, null, 2)}\n`);
  const tools = [
    { name: 'read_text_file', description: 'Read a text file', inputSchema: { type: 'object', properties: { path: { type: 'string' } } } },
    { name: 'write_file', description: 'Write a file', inputSchema: { type: 'object', properties: { path: { type: 'string' } } } },
  ];
  writeFileSync(join(workspace, 'mcp-policy.catalog.json'), `${JSON.stringify(catalogFromToolsList('canary', tools, { name: 'canary', version: '1.0.0' }), null, 2)}\n`);
  return { workspace, canary, marker };
}


/** Pids of live processes whose command line names this canary (its absolute path: unique to the run). */
function canaryPids(canary: string): number[] {
  const found = spawnSync('pgrep', ['-f', canary], { encoding: 'utf8' });
  if (found.status === 1) return []; // none
  assert.equal(found.status, 0, `pgrep failed: ${found.stderr}`);
  return found.stdout
    .split('\n')
    .map((line) => Number(line.trim()))
    .filter((pid) => Number.isInteger(pid) && pid > 0 && pid !== process.pid);
}

function killPids(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Resolves with the HTTP status if something answers on the port, rejects if nothing listens. */
async function probePort(port: number): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(3000) });
  await response.body?.cancel();
  return response.status;
}

interface Session {
  server: CodeServer;
  ui: Workbench;
  page: Page;
  statusItem: Locator;
}

/** code-server on the workspace with auto start on and a fixed port, the workbench open and the extension active. */
async function openSession(t: TestContext, ws: CanaryWorkspace, port: number, trustWorkspace: boolean): Promise<Session> {
  const session = await openWorkbenchSession(t, {
    vsix: extension.vsix,
    workspace: ws.workspace,
    trustWorkspace,
    settings: {
      'mcpPolicy.proxy.autoStart': true,
      'mcpPolicy.proxy.port': port,
      'files.autoSave': 'off',
      // Open straight into Restricted Mode (what "No, I don't trust the authors" gives) instead of the modal trust prompt.
      'security.workspace.trust.startupPrompt': 'never',
    },
    shotPrefix: `untrusted-${trustWorkspace ? 'trusted' : 'untrusted'}`,
  });
  // The canary runs under the extension host (code-server's process group, stopped by the
  // session's cleanup, which runs first); should one have escaped the group, end it by pid.
  t.after(() => killPids(canaryPids(ws.canary)));
  const { server, ui, page, statusItem } = session;
  await statusItem.waitFor({ state: 'visible', timeout: 30_000 });
  return { server, ui, page, statusItem };
}

test('untrusted workspace: language features work, no process the policy names is ever started', { timeout: 120_000 }, async (t) => {
  if (extension.skipReason) {
    t.skip(extension.skipReason);
    return;
  }
  const ws = canaryWorkspace('untrusted');
  const port = await freePort();
  const { server, ui, page, statusItem } = await openSession(t, ws, port, false);
  const started = Date.now();

  // Restricted Mode really is on (the harness started code-server with workspace trust enabled).
  await page.locator('.part.statusbar .statusbar-item').filter({ hasText: 'Restricted Mode' }).first().waitFor({ state: 'visible', timeout: 15_000 });
  await server.waitForVscodeLog(/MCP Policy activated in [^\n]*/);
  await server.waitForVscodeLog(/Language server ready [^\n]*/, 30_000);

  /** Everything that would show the proxy or the policy's command ran, at any time so far. */
  const assertNothingStarted = async (when: string): Promise<void> => {
    await expectText(statusItem, /MCP Policy: off/, 5_000);
    assert.equal(existsSync(ws.marker), false, `${when}: the policy's command ran: ${existsSync(ws.marker) ? readFileSync(ws.marker, 'utf8') : ''}`);
    assert.deepEqual(canaryPids(ws.canary), [], `${when}: a canary process is running`);
    await assert.rejects(probePort(port), /fetch failed/, `${when}: something listens on the proxy port ${port}`);
    assert.equal(existsSync(join(server.dirs.home, '.mcp-policy', `serve-${port}.token`)), false, `${when}: the proxy wrote its token file`);
    // Catches a proxy that was started and stopped again in between (Toggle would do that).
    const started = /Local proxy listening[^\n]*|Guarded server[^\n]*/.exec(server.vscodeLogs());
    assert.equal(started, null, `${when}: the extension log says "${started?.[0] ?? ''}"`);
  };

  await t.test('1. the language server works: Open Policy, the unknown-tool diagnostic in Problems; auto start did nothing', async () => {
    await ui.runCommand('MCP Policy: Open Policy');
    await page.locator('.tabs-container .tab.active', { hasText: 'mcp-policy.json' }).waitFor({ timeout: 15_000 });
    await page.keyboard.press('Control+Shift+M'); // Problems panel
    const problem = page.locator('.markers-panel .monaco-list-row').filter({ hasText: 'unknown tool "read_txt_file"' }).first();
    await problem.waitFor({ state: 'visible', timeout: 30_000 });
    assert.match(await problem.innerText(), /did you mean "read_text_file"/);
    await ui.screenshot('untrusted-1-diagnostic');
    // mcpPolicy.proxy.autoStart is on in the user settings (a trusted workspace starts the proxy
    // well within the time this step took: see the control test).
    await assertNothingStarted('after activation (auto start)');
  });

  await t.test('2. Start, Toggle and Refresh Tool Catalog: hidden from the palette or refused; the views\' buttons disabled or refused', async () => {
    const shown = await paletteRows(page, 'MCP Policy:', 'MCP Policy: Open Policy');
    await ui.screenshot('untrusted-2a-palette');
    t.diagnostic(`palette in Restricted Mode: ${shown.join(' | ')}`);
    assert.ok(shown.includes('MCP Policy: Open Policy'), `the extension's commands are not in the palette: ${shown.join(' | ')}`);
    for (const title of STARTING_COMMANDS) {
      const rows = await paletteRows(page, title, 'MCP Policy: Open Policy');
      if (!rows.includes(title)) {
        // Hidden in Restricted Mode (package.json: "enablement": "isWorkspaceTrusted"): nothing to run.
        t.diagnostic(`"${title}" is not in the palette in Restricted Mode`);
        continue;
      }
      // Offered after all: running it must be refused with an error, and start nothing.
      await ui.runCommand('Notifications: Clear All Notifications');
      await ui.runCommand(title);
      await ui.waitForNotification(/trust/i, 15_000);
      t.diagnostic(`"${title}" is in the palette in Restricted Mode; running it was refused`);
      await assertNothingStarted(`after "${title}"`);
    }

    // The play button on the Decisions view and the refresh button on the Tool Catalog view
    // (the status bar item opens the views).
    await statusItem.click();
    await page.locator('.pane').filter({ hasText: 'only starts in a trusted workspace' }).first().waitFor({ state: 'visible', timeout: 15_000 });
    for (const [view, action] of [
      ['Decisions', 'Start Local Proxy'],
      ['Tool Catalog', 'Refresh Tool Catalog'],
    ] as const) {
      const header = page.locator('.pane-header').filter({ hasText: view }).first();
      await header.hover();
      const button = header.locator(`.action-label[aria-label^="${action}"]`).first();
      await button.waitFor({ state: 'attached', timeout: 10_000 });
      const disabled = /\bdisabled\b/.test((await button.getAttribute('class')) ?? '');
      if (!disabled) await ui.runCommand('Notifications: Clear All Notifications');
      await button.click({ force: true });
      if (disabled) {
        t.diagnostic(`"${action}" on the ${view} view is disabled in Restricted Mode`);
      } else {
        await ui.waitForNotification(/trust/i, 15_000);
        t.diagnostic(`"${action}" on the ${view} view is enabled in Restricted Mode; clicking it was refused`);
      }
      await assertNothingStarted(`after "${action}" on the ${view} view`);
    }
    await ui.screenshot('untrusted-2b-views');
  });

  await t.test('3. a few seconds later: no canary marker, nothing on the proxy port, no canary process, status off', async () => {
    // Give anything that was wrongly started time to show itself.
    await page.waitForTimeout(3000);
    await assertNothingStarted('at the end');
    await ui.screenshot('untrusted-3-proxy-off');
  });

  t.diagnostic(`scenario: ${((Date.now() - started) / 1000).toFixed(1)} s after activation`);
});

test('control: the same workspace trusted does run the canary (auto start listens, Refresh Tool Catalog starts it)', { timeout: 120_000 }, async (t) => {
  if (extension.skipReason) {
    t.skip(extension.skipReason);
    return;
  }
  const ws = canaryWorkspace('trusted');
  const port = await freePort();
  const { ui, statusItem } = await openSession(t, ws, port, true);
  const started = Date.now();
  // The user settings take effect: auto start listens on the fixed port.
  await expectText(statusItem, /MCP Policy: on · 1 server/, 30_000);
  assert.equal(typeof (await probePort(port)), 'number');
  // Refresh Tool Catalog runs the policy's command: the canary writes its marker.
  assert.equal(existsSync(ws.marker), false);
  await ui.runCommand('MCP Policy: Refresh Tool Catalog');
  await waitFor(() => existsSync(ws.marker), 15_000, `${ws.marker} did not appear`);
  assert.match(readFileSync(ws.marker, 'utf8'), /canary\.js/);
  assert.notDeepEqual(canaryPids(ws.canary), [], 'the canary is not running');
  await ui.screenshot('untrusted-control-trusted');
  t.diagnostic(`control: marker after ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

/**
 * The palette's command rows for `query` (F1, ">query"), once `ready` shows (the extension's
 * commands are registered), reopening the palette as the harness's runCommand does. Closes it.
 */
async function paletteRows(page: Page, query: string, ready: string, timeoutMs = 30_000): Promise<string[]> {
  const widget = page.locator('.quick-input-widget');
  const input = widget.locator('input.input');
  const labels = widget.locator('.monaco-list-row .label-name');
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('F1');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill(`>${ready}`);
    const readyRow = widget.locator('.monaco-list-row').filter({ has: page.locator('.label-name', { hasText: ready }) }).first();
    const shown = await readyRow.waitFor({ state: 'visible', timeout: Math.min(1000 * attempt, Math.max(1, deadline - Date.now())) }).then(
      () => true,
      () => false,
    );
    if (shown) {
      await input.fill(`>${query}`);
      // The list filters synchronously; let it render.
      await page.waitForTimeout(300);
      const rows = (await labels.allInnerTexts()).map((text) => text.replace(/\s+/g, ' ').trim());
      await page.keyboard.press('Escape');
      await widget.waitFor({ state: 'hidden', timeout: 5000 });
      return rows;
    }
    await page.keyboard.press('Escape');
    await widget.waitFor({ state: 'hidden', timeout: 5000 }).catch(() => undefined);
    if (Date.now() >= deadline) throw new Error(`"${ready}" not in the palette after ${timeoutMs} ms`);
  }
}

async function waitFor(check: () => boolean, timeoutMs: number, message: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(message);
    await new Promise((r) => setTimeout(r, 100));
  }
}

