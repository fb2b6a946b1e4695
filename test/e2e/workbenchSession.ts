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
import { EXTENSION_ID } from './extensionFixture';

export const screenshotsDir = join(repoRoot(), 'test-results', 'e2e');

export interface SessionOptions extends StartCodeServerOptions {
  /** Names this file's failure screenshots: `<prefix>-failure-N.png`. */
  shotPrefix: string;
  /** Which extension log lines a failed step prints (default: the extension's own). */
  logFilter?: RegExp;
  /** Called once the browser exists, before the workbench opens (e.g. to grant permissions). */
  beforeOpen?: (ui: Workbench, server: CodeServer) => Promise<void>;
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
  const { shotPrefix, logFilter = /MCP Policy/, beforeOpen, ...codeServerOptions } = options;
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
  await ui.openWorkbench(server.workbenchUrl);
  await server.waitForExtensionActivated(EXTENSION_ID, 60_000);
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
