/**
 * One code-server window with the packaged extension active, as every end-to-end file opens it:
 * code-server on a workspace, a browser on its workbench, cleanup when the test ends, and
 * subtests that leave a screenshot, the visible notifications and the extension's log when they
 * fail.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Locator, Page } from 'playwright-core';
import { launchBrowser, readVscodeLogs, repoRoot, startCodeServer, type CodeServer, type StartCodeServerOptions, type Workbench } from './codeServer';
import { EXTENSION_ID, expectText } from './extensionFixture';

export const screenshotsDir = join(repoRoot(), 'test-results', 'e2e');

export interface SessionOptions extends StartCodeServerOptions {
  /** Names this file's failure screenshots: `<prefix>-failure-N.png`. */
  shotPrefix: string;
  /** Which extension log lines a failed step prints (default: the extension's own). */
  logFilter?: RegExp;
  /** Called once the browser exists, before the workbench opens (e.g. to grant permissions). */
  beforeOpen?: (ui: Workbench, server: CodeServer) => Promise<void>;
  /**
   * Whether the browser opens the workspace and waits for the extension (default true); false
   * leaves the browser blank, for a test that first opens another folder itself.
   */
  openWorkbench?: boolean;
  /** More lines a failed step prints, after the notifications (e.g. the Decisions rows). */
  failureDetails?: (page: Page) => Promise<string[]>;
}

export interface WorkbenchSession {
  readonly server: CodeServer;
  /** The current browser; `reopen` replaces it. */
  ui: Workbench;
  readonly page: Page;
  /** The extension's status bar item ("MCP Policy: off", "MCP Policy: on · 1 server", …). */
  readonly statusItem: Locator;
  /** A subtest of the session's test that reports what the window showed when it fails. */
  step(name: string, body: () => Promise<void>): Promise<void>;
  /** An MCP SDK client on one guarded server of the extension's local proxy, closed with the session. */
  connect(port: number, serverName: string, clientName: string): Promise<Client>;
  /** A fresh browser on another URL of the same code-server (the old page is closed). */
  reopen(url: string): Promise<Workbench>;
}

/** Starts code-server, opens the workbench and waits until the extension is active. */
export async function openWorkbenchSession(t: TestContext, options: SessionOptions): Promise<WorkbenchSession> {
  const { shotPrefix, logFilter = /MCP Policy/, beforeOpen, openWorkbench = true, failureDetails, ...codeServerOptions } = options;
  const clients: Client[] = [];
  let server: CodeServer | undefined;
  let ui: Workbench | undefined;
  t.after(async () => {
    for (const client of clients) await client.close().catch(() => undefined);
    await ui?.close();
    await server?.stop();
  });
  server = await startCodeServer(codeServerOptions);
  ui = await launchBrowser({ screenshotsDir });
  await beforeOpen?.(ui, server);
  if (openWorkbench) {
    await ui.openWorkbench(server.workbenchUrl);
    await server.waitForExtensionActivated(EXTENSION_ID, 60_000);
  }
  const started = server;
  let failures = 0;

  const session: WorkbenchSession = {
    server: started,
    ui,
    get page() {
      return session.ui.page;
    },
    get statusItem() {
      return session.ui.page.locator('.part.statusbar .statusbar-item').filter({ hasText: 'MCP Policy:' }).first();
    },
    step: (name, body) =>
      t.test(name, async (st) => {
        try {
          await body();
        } catch (error) {
          const shot = await session.ui.screenshot(`${shotPrefix}-failure-${++failures}`).catch(() => undefined);
          const toasts = await session.page.locator('.notifications-toasts .notification-toast').allInnerTexts().catch(() => []);
          st.diagnostic(`screenshot: ${shot ?? 'none'}`);
          st.diagnostic(`notifications: ${JSON.stringify(toasts)}`);
          for (const line of (await failureDetails?.(session.page).catch(() => [])) ?? []) st.diagnostic(line);
          for (const line of readVscodeLogs(started.dirs.userDataDir, logFilter).slice(-4000).split('\n')) if (line.trim()) st.diagnostic(line);
          throw error;
        }
      }),
    connect: async (port, serverName, clientName) => {
      const tokenFile = join(started.dirs.home, '.mcp-policy', `serve-${port}.token`);
      const token = (await poll('the token file', () => readNonEmpty(tokenFile), 10_000)).trim();
      const client = new Client({ name: clientName, version: '1.0.0' });
      clients.push(client);
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/servers/${serverName}/mcp`), {
          requestInit: { headers: { Authorization: `Bearer ${token}` } },
        }),
      );
      return client;
    },
    reopen: async (url) => {
      await session.ui.close();
      session.ui = await launchBrowser({ screenshotsDir });
      ui = session.ui;
      await session.ui.openWorkbench(url);
      return session.ui;
    },
  };
  return session;
}

/** Bounded poll until `read` returns a value (not undefined). */
export async function poll<T>(what: string, read: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A file's text once it exists and is not empty. */
export function readNonEmpty(path: string): string | undefined {
  return existsSync(path) && statSync(path).size > 0 ? readFileSync(path, 'utf8') : undefined;
}

/** How many lines of the code-server and VS Code logs match. */
export function logCount(server: CodeServer, pattern: RegExp): number {
  return server.vscodeLogs().match(new RegExp(pattern.source, 'g'))?.length ?? 0;
}

/** Waits until the proxy logged one more policy reload than `reloadsBefore` (a `logCount` taken earlier). */
export async function waitForPolicyReload(server: CodeServer, reloadsBefore: number): Promise<void> {
  await poll('the proxy reloading the policy', () => (logCount(server, /Policy reloaded:/) > reloadsBefore ? true : undefined), 15_000);
}

/** The Decisions view's pane. */
export function decisionsPane(page: Page): Locator {
  return page.locator('.pane').filter({ has: page.locator('.pane-header', { hasText: 'Decisions' }) });
}

/** Runs "MCP Policy: Show Decisions" and waits for the view's body. */
export async function showDecisions(ui: Workbench): Promise<Locator> {
  await ui.runCommand('MCP Policy: Show Decisions');
  const decisions = decisionsPane(ui.page);
  await decisions.locator('.pane-body').waitFor({ state: 'visible', timeout: 15_000 });
  return decisions;
}

/** The list rows under `container` whose accessible label starts with e.g. "Approved: create_directory". */
export function rowByLabel(container: Locator, label: string): Locator {
  return container.locator(`.monaco-list-row[aria-label^=${JSON.stringify(label)}]`);
}

/** The approval toast for one call of `tool` on the server "fs" (`uniqueText`, e.g. a path, tells the calls apart). */
export function approvalToast(page: Page, tool: string, uniqueText: string): Locator {
  return page.locator('.notifications-toasts .notification-toast').filter({ hasText: `An agent wants to run ${tool} on fs.` }).filter({ hasText: uniqueText });
}

/** The text of a tool result's content. */
export function resultText(result: object): string {
  const content = 'content' in result ? result.content : undefined;
  return Array.isArray(content)
    ? content.map((part: unknown) => (typeof part === 'object' && part !== null && 'text' in part ? String(part.text) : '')).join('\n')
    : '';
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Waits until an input's value matches. */
export async function expectValue(input: Locator, pattern: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    last = await input.inputValue().catch(() => '');
    if (pattern.test(last)) return;
    if (Date.now() > deadline) throw new Error(`expected the input to hold ${String(pattern)}, saw "${last}"`);
    await input.page().waitForTimeout(100);
  }
}

/**
 * Types `path` into code-server's save dialog (VS Code's simple one: a quick input holding a
 * path) and accepts it. The dialog lists the folder typed and ignores Enter while it updates:
 * this waits for the listing (its entry `listed`), then accepts, again while the dialog stays
 * open (calling `whileOpen` before each retry), for up to 10 s.
 */
export async function acceptSaveDialog(page: Page, path: string, listed: string, whileOpen?: () => Promise<void>): Promise<void> {
  const dialog = page.locator('.quick-input-widget');
  const input = dialog.locator('input.input');
  await input.fill(path);
  // By aria-label: a reused row keeps the hidden text of an earlier separator ("similar commands").
  await dialog.locator(`.monaco-list-row[aria-label=${JSON.stringify(listed)}]`).waitFor({ state: 'visible', timeout: 10_000 });
  const acceptBy = Date.now() + 10_000;
  for (;;) {
    await input.press('Enter');
    try {
      await dialog.waitFor({ state: 'hidden', timeout: 1_000 });
      return;
    } catch (error) {
      if (Date.now() > acceptBy) throw error;
      await whileOpen?.();
    }
  }
}

/**
 * Runs "MCP Policy: Start Local Proxy", waits for the status bar to say one server is on, and
 * connects an SDK client to that server.
 */
export async function startProxyAndConnect(session: WorkbenchSession, port: number, serverName: string, clientName: string): Promise<Client> {
  await session.ui.runCommand('MCP Policy: Start Local Proxy');
  await expectText(session.statusItem, /MCP Policy: on · 1 server/, 30_000);
  return session.connect(port, serverName, clientName);
}

/**
 * Clicks Export Decisions on the Decisions view and waits for the save dialog to offer a file in
 * `home`, not the workspace (an export holds the calls' arguments). Returns the dialog's input.
 */
export async function openExportDialog(decisions: Locator, home: string): Promise<Locator> {
  await decisions.locator('.pane-header').getByRole('button', { name: 'Export Decisions' }).click();
  // code-server's save dialog is VS Code's simple one: a quick input holding a path.
  const input = decisions.page().locator('.quick-input-widget input.input');
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  await expectValue(input, new RegExp(`^${escapeRegExp(home)}/mcp-policy-decisions-[\\d-]+\\.jsonl$`), 10_000);
  return input;
}

/**
 * Settings for a window whose proxy asks for approvals: the proxy's port, the approval timeout,
 * no auto save (a test decides when the policy is saved), and title and inline actions shown
 * without hovering first.
 */
export function approvalSettings(port: number, approvalTimeoutSeconds: number): Record<string, unknown> {
  return {
    'mcpPolicy.proxy.port': port,
    'mcpPolicy.approval.timeoutSeconds': approvalTimeoutSeconds,
    'files.autoSave': 'off',
    'workbench.view.alwaysShowHeaderActions': true,
  };
}
