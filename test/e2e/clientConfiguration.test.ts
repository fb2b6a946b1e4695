// End-to-end: Copy Client Configuration stays valid across Stop/Start and a window reload, in a
// real VS Code (code-server) driven by Playwright, with `mcpPolicy.proxy.port` left at 0. The
// configuration is read from the browser's clipboard, and an MCP SDK client in this test uses
// the first one copied all along. Then the workspace's port is taken by someone else: the proxy
// listens on another port, says so, and the credential stays.
//
// Screenshots go to test-results/e2e/client-configuration-*.png (git-ignored).
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { repoRoot, type CodeServer } from './codeServer';
import { expectText, usePackagedExtension } from './extensionFixture';
import { openWorkbenchSession } from './workbenchSession';

const root = repoRoot();
const filesystemServer = join(root, 'node_modules', '.bin', 'mcp-server-filesystem');

const extension = usePackagedExtension('mcp-policy-e2e-client-config-');

interface Copied {
  text: string;
  url: string;
  authorization: string;
}

/** The `mcpServers.fs` entry of a copied configuration. */
function parseCopied(text: string): Copied {
  const parsed = JSON.parse(text) as { mcpServers?: Record<string, { url?: unknown; headers?: Record<string, unknown> }> };
  const fs = parsed.mcpServers?.['fs'];
  assert.ok(fs && typeof fs.url === 'string' && typeof fs.headers?.['Authorization'] === 'string', `no fs server in the copied configuration:\n${text}`);
  return { text, url: fs.url, authorization: fs.headers['Authorization'] };
}

/** Connects an SDK client with a copied configuration and lists the data folder through the proxy. */
async function useConfiguration(copied: Copied, dataDir: string): Promise<string[]> {
  const client = new Client({ name: 'e2e-pasted-configuration', version: '1.0.0' });
  try {
    await client.connect(new StreamableHTTPClientTransport(new URL(copied.url), { requestInit: { headers: { Authorization: copied.authorization } } }));
    const result = await client.callTool({ name: 'list_directory', arguments: { path: dataDir } });
    assert.notEqual(result.isError, true, JSON.stringify(result));
    const content = (result as { content?: { type: string; text?: string }[] }).content ?? [];
    return content.flatMap((part) => (part.type === 'text' && part.text ? part.text.split('\n') : []));
  } finally {
    await client.close().catch(() => undefined);
  }
}

function occupy(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/** The page's clipboard (this project compiles without the DOM's types). */
interface BrowserClipboard {
  navigator: { clipboard: { readText(): Promise<string>; writeText(text: string): Promise<void> } };
}

function activations(server: CodeServer): number {
  return server.vscodeLogs().match(/_doActivateExtension mcp-policy\.mcp-policy\b/gi)?.length ?? 0;
}

test('Copy Client Configuration: the same URL and bearer header after Stop/Start and a window reload; a taken port moves, the credential stays', { timeout: 300_000 }, async (t) => {
  if (extension.skipReason) {
    t.skip(extension.skipReason);
    return;
  }
  const workspace = join(extension.temp, 'shop');
  const dataDir = join(extension.temp, 'data');
  mkdirSync(workspace, { recursive: true });
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(dataDir, 'hello.txt'), 'hello\n');
  writeFileSync(
    join(workspace, 'mcp-policy.json'),
    `${JSON.stringify({ version: '1', default: 'deny', tools: { list_directory: {} }, servers: { fs: { upstream: { command: filesystemServer, args: [dataDir] } } } }, null, 2)}\n`,
  );

  let squatter: Server | undefined;
  t.after(() => new Promise((resolve) => (squatter ? squatter.close(resolve) : resolve(undefined))));
  // mcpPolicy.proxy.port stays 0: the port is the workspace's, picked at the first start.
  const session = await openWorkbenchSession(t, {
    vsix: extension.vsix,
    workspace,
    shotPrefix: 'client-configuration',
    beforeOpen: (ui, server) => ui.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url.replace(/\/$/, '') }),
  });
  const { server, ui, page, statusItem, step } = session;
  await statusItem.waitFor({ state: 'visible', timeout: 30_000 });

  const start = async (): Promise<void> => {
    await ui.runCommand('MCP Policy: Start Local Proxy');
    await expectText(statusItem, /MCP Policy: on · 1 server/, 30_000);
  };
  const stop = async (): Promise<void> => {
    await ui.runCommand('MCP Policy: Stop Local Proxy');
    await expectText(statusItem, /MCP Policy: off/, 30_000);
  };
  const copy = async (): Promise<Copied> => {
    await page.evaluate(() => (globalThis as unknown as BrowserClipboard).navigator.clipboard.writeText(''));
    await ui.runCommand('MCP Policy: Copy Client Configuration');
    await ui.waitForNotification(/Copied the MCP client configuration for 1 guarded server/, 15_000);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const text = await page.evaluate(() => (globalThis as unknown as BrowserClipboard).navigator.clipboard.readText());
      if (text.length > 0) return parseCopied(text);
      if (Date.now() > deadline) throw new Error('the clipboard stayed empty');
      await page.waitForTimeout(100);
    }
  };

  let first: Copied | undefined;
  await step('1. the first start picks a port, makes the workspace credential; the copied configuration works', async () => {
    await start();
    first = await copy();
    assert.match(first.url, /^http:\/\/127\.0\.0\.1:\d+\/servers\/fs\/mcp$/);
    assert.match(first.authorization, /^Bearer mcpp_/);
    assert.deepEqual(await useConfiguration(first, dataDir), ['[FILE] hello.txt']);
    const tokens = readFileSync(join(server.dirs.home, '.mcp-policy', 'tokens.json'), 'utf8');
    assert.match(tokens, /"name": "vscode-shop"/, 'the credential is a named token: mcp-policy token list shows it');
    assert.ok(!tokens.includes(first.authorization.slice('Bearer mcpp_'.length)), 'only its hash is on disk');
    await ui.screenshot('client-configuration-1-first-start');
  });

  await step('2. Stop, Start: the same configuration, and the one pasted before still connects', async () => {
    await stop();
    await start();
    const again = await copy();
    assert.equal(again.text, first!.text);
    assert.deepEqual(await useConfiguration(first!, dataDir), ['[FILE] hello.txt']);
  });

  await step('3. a window reload (a new extension host), Start: the same configuration', async () => {
    const before = activations(server!);
    await page.reload();
    await page.locator('.monaco-workbench .part.statusbar').waitFor({ state: 'visible', timeout: 60_000 });
    const deadline = Date.now() + 60_000;
    while (activations(server!) <= before) {
      if (Date.now() > deadline) throw new Error('the extension was not activated again after the reload');
      await page.waitForTimeout(200);
    }
    await statusItem.waitFor({ state: 'visible', timeout: 30_000 });
    await expectText(statusItem, /MCP Policy: off/, 30_000);
    await start();
    const again = await copy();
    assert.equal(again.text, first!.text);
    assert.deepEqual(await useConfiguration(first!, dataDir), ['[FILE] hello.txt']);
    await ui.screenshot('client-configuration-3-after-reload');
  });

  await step('4. the port taken by another program: another port, a notice to copy again, the same credential', async () => {
    await stop();
    const port = Number(new URL(first!.url).port);
    squatter = await occupy(port);
    await start();
    await ui.waitForNotification(new RegExp(`This workspace's port ${port} is taken: the local proxy listens on \\d+ now\\. MCP clients set up before need the configuration copied again\\.`), 15_000);
    const moved = await copy();
    assert.notEqual(new URL(moved.url).port, String(port));
    assert.equal(moved.authorization, first!.authorization, 'the credential does not depend on the port');
    assert.deepEqual(await useConfiguration(moved, dataDir), ['[FILE] hello.txt']);
    await ui.screenshot('client-configuration-4-port-moved');
  });
});
