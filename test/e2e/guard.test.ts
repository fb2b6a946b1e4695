// End-to-end: Guard These Servers in a real VS Code (code-server 4.139.1). A workspace whose
// only MCP setup is .vscode/mcp.json (server-filesystem and server-memory):
//   1. the MCP Policy views offer Guard These Servers;
//   2. after it, the policy and its catalog exist and "MCP: List Servers" lists each server once,
//      guarded;
//   3. an SDK client's allowed and denied calls through the guarded server show in Decisions;
//   4. Unguard restores .vscode/mcp.json byte for byte;
//   5. with the proxy on, the restored (unguarded) twins get a warning whose fix guards them again.
// Screenshots go to test-results/e2e/guard-*.png.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Locator } from 'playwright-core';
import { repoRoot } from './codeServer';
import { expectText, freePort, usePackagedExtension } from './extensionFixture';
import { openWorkbenchSession, poll } from './workbenchSession';

const root = repoRoot();
const bin = (name: string): string => join(root, 'node_modules', '.bin', name);

const extension = usePackagedExtension('mcp-policy-e2e-guard-');

function mcpJson(dataDir: string): string {
  return [
    '// The workspace\'s MCP servers, as VS Code users write them',
    '{',
    '  "inputs": [',
    '    { "type": "promptString", "id": "memory-file", "description": "Where the knowledge graph is kept" }',
    '  ],',
    '  "servers": {',
    '    "filesystem": {',
    '      "type": "stdio",',
    `      "command": ${JSON.stringify(bin('mcp-server-filesystem'))},`,
    `      "args": [${JSON.stringify(dataDir)}]`,
    '    },',
    '    // knowledge graph kept in a file of its own',
    '    "memory": {',
    `      "command": ${JSON.stringify(bin('mcp-server-memory'))},`,
    '      "env": { "MEMORY_FILE_PATH": "${input:memory-file}" },',
    '    }',
    '  }',
    '}',
    '',
  ].join('\n');
}

test('Guard These Servers in a real VS Code: policy and catalog from .vscode/mcp.json, each server listed once, decisions, Unguard', { timeout: 300_000 }, async (t) => {
  if (extension.skipReason) {
    t.skip(extension.skipReason);
    return;
  }
  const workspace = join(extension.temp, 'workspace');
  const dataDir = join(extension.temp, 'data');
  mkdirSync(join(workspace, '.vscode'), { recursive: true });
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(dataDir, 'hello.txt'), 'hello\n');
  const config = join(workspace, '.vscode', 'mcp.json');
  const original = mcpJson(dataDir);
  const memoryFile = join(extension.temp, 'memory.jsonl');
  writeFileSync(config, original);
  const policyFile = join(workspace, '.vscode', 'mcp-policy.json');
  const catalogFile = join(workspace, '.vscode', 'mcp-policy.catalog.json');

  const port = await freePort();
  const session = await openWorkbenchSession(t, {
    vsix: extension.vsix,
    workspace,
    settings: { 'mcpPolicy.proxy.port': port, 'mcpPolicy.approval.timeoutSeconds': 3, 'workbench.view.alwaysShowHeaderActions': true },
    shotPrefix: 'guard',
    logFilter: /MCP Policy|init:|catalog:/,
  });
  const { page, ui, step, statusItem } = session;

  const decisions = page.locator('.pane').filter({ has: page.locator('.pane-header', { hasText: 'Decisions' }) });
  const listServers = async (): Promise<string[]> => {
    await page.keyboard.press('F1');
    const palette = page.locator('.quick-input-widget');
    await palette.locator('input.input').fill('>MCP: List Servers');
    await palette.locator('.monaco-list-row', { hasText: 'MCP: List Servers' }).first().waitFor({ timeout: 10_000 });
    await page.keyboard.press('Enter');
    await palette.locator('.monaco-list-row', { hasText: /filesystem/ }).first().waitFor({ timeout: 15_000 });
    const rows = await palette.locator('.monaco-list-row').allInnerTexts();
    return rows.map((row) => row.split('\n')[0]!.trim());
  };

  /** "MCP: List Servers" until `check` holds: VS Code rereads .vscode/mcp.json on its own schedule. */
  const listUntil = async (check: (rows: string[]) => boolean, timeoutMs = 20_000): Promise<string[]> => {
    let rows: string[] = [];
    for (const deadline = Date.now() + timeoutMs; ; ) {
      rows = await listServers();
      await page.keyboard.press('Escape');
      if (check(rows) || Date.now() > deadline) return rows;
      await page.waitForTimeout(500);
    }
  };
  const listedOnceGuarded = (names: string[]) => (rows: string[]): boolean =>
    names.every((name) => {
      const found = rows.filter((row) => row.startsWith(name));
      return found.length === 1 && found[0]!.startsWith(`${name} (guarded by MCP Policy)`);
    });

  await step('1. the MCP Policy views offer Guard These Servers for the servers of .vscode/mcp.json', async () => {
    const unguarded = await listServers();
    await ui.screenshot('guard-0-unguarded-servers');
    await page.keyboard.press('Escape');
    // A row reads its label then its state ("filesystemStopped").
    assert.ok(unguarded.some((row) => row.startsWith('filesystem')) && unguarded.some((row) => row.startsWith('memory')), JSON.stringify(unguarded));
    await ui.runCommand('MCP Policy: Show Decisions');
    await expectText(decisions.locator('.pane-body'), /MCP servers in \.vscode\/mcp\.json that no policy guards/, 20_000);
    await decisions.getByRole('button', { name: 'Guard These Servers' }).waitFor({ state: 'visible', timeout: 10_000 });
    await ui.screenshot('guard-1-welcome-offers-guard');
  });

  await step('2. Guard These Servers writes the policy and catalog; MCP: List Servers lists each server once, guarded', async () => {
    await decisions.getByRole('button', { name: 'Guard These Servers' }).click();
    // memory's MEMORY_FILE_PATH is a VS Code input: asked once, with the input's own description.
    const input = page.locator('.quick-input-widget').filter({ hasText: 'Where the knowledge graph is kept' });
    await input.waitFor({ state: 'visible', timeout: 20_000 });
    await ui.screenshot('guard-2a-input-asked');
    await input.locator('input.input').fill(memoryFile);
    await input.locator('input.input').press('Enter');
    await expectText(statusItem, /MCP Policy: on · 2 servers/, 90_000);
    const policy = JSON.parse(readFileSync(policyFile, 'utf8')) as { default: string; servers: Record<string, { upstream: unknown; tools: Record<string, { action?: string }> }> };
    assert.equal(policy.default, 'deny');
    assert.deepEqual(Object.keys(policy.servers), ['filesystem', 'memory']);
    assert.deepEqual(policy.servers.filesystem?.tools.list_directory, {});
    assert.deepEqual(policy.servers.memory?.upstream, { command: bin('mcp-server-memory'), env: { MEMORY_FILE_PATH: '${input:memory-file}' }, cwd: '..' }, 'the input stays a reference');
    assert.ok(!readFileSync(policyFile, 'utf8').includes(memoryFile), 'the input value is not in the policy');
    assert.equal(policy.servers.filesystem?.tools.write_file?.action, 'approve');
    const catalog = JSON.parse(readFileSync(catalogFile, 'utf8')) as { servers: Record<string, { tools: unknown[] }> };
    assert.equal(catalog.servers.filesystem?.tools.length, 14);
    assert.equal(catalog.servers.memory?.tools.length, 9);
    const moved = readFileSync(config, 'utf8');
    assert.ok(!moved.includes('mcp-server-filesystem') && !moved.includes('mcp-server-memory'), moved);
    assert.ok(moved.startsWith("// The workspace's MCP servers"), 'the comment stays');
    await ui.screenshot('guard-2-guarded');
    const rows = await listUntil(listedOnceGuarded(['filesystem', 'memory']));
    assert.ok(listedOnceGuarded(['filesystem', 'memory'])(rows), JSON.stringify(rows));
    await listServers();
    await ui.screenshot('guard-3-list-servers-once');
    await page.keyboard.press('Escape');
  });

  await step('3. an SDK client\'s allowed and denied calls through the guarded server show in Decisions', async () => {
    let mcp = await session.connect(port, 'filesystem', 'e2e-guard');
    const listed = await mcp.callTool({ name: 'list_directory', arguments: { path: dataDir } });
    assert.notEqual(listed.isError, true, JSON.stringify(listed));
    assert.match(JSON.stringify(listed.content), /hello\.txt/);
    const refused = await mcp.callTool({ name: 'create_directory', arguments: { path: 42 } });
    assert.equal(refused.isError, true);
    assert.match(JSON.stringify(refused.content), /\[POLICY INVALID ARGUMENTS\] create_directory/);
    const unknown = await mcp.callTool({ name: 'format_disk', arguments: {} });
    assert.match(JSON.stringify(unknown.content), /\[POLICY DENIED\] format_disk/);
    await ui.runCommand('MCP Policy: Show Decisions');
    const row = (label: string): Locator => decisions.locator(`.monaco-list-row[aria-label^=${JSON.stringify(label)}]`);
    await row('Allowed: list_directory on filesystem').waitFor({ state: 'visible', timeout: 15_000 });
    await row('Denied: format_disk on filesystem').waitFor({ state: 'visible', timeout: 15_000 });
    await ui.screenshot('guard-4-decisions');
    await mcp.close();
    // The local proxy resolved the input: the memory server writes where the input said.
    mcp = await session.connect(port, 'memory', 'e2e-guard');
    const created = await mcp.callTool({ name: 'create_entities', arguments: { entities: [{ name: 'guarded', entityType: 'test', observations: [] }] } });
    assert.notEqual(created.isError, true, JSON.stringify(created));
    assert.match(readFileSync(memoryFile, 'utf8'), /"guarded"/);
    await mcp.close();
  });

  await step('4. Unguard restores .vscode/mcp.json byte for byte', async () => {
    await ui.runCommand('MCP Policy: Unguard');
    await poll('.vscode/mcp.json restored', () => (readFileSync(config, 'utf8') === original ? true : undefined), 15_000);
    await ui.waitForNotification(/Restored \.vscode\/mcp\.json as it was/, 10_000);
    assert.equal(existsSync(`${config}.mcp-policy-backup.json`), false);
    await ui.screenshot('guard-5-unguarded');
  });

  await step('5. an unguarded server next to its guarded twin gets a warning whose fix guards it again (and a new server joins the policy)', async () => {
    // A server the policy does not know yet, added by hand.
    const added = readFileSync(config, 'utf8').replace('  "servers": {\n', `  "servers": {\n    "everything": { "command": ${JSON.stringify(bin('mcp-server-everything'))} },\n`);
    writeFileSync(config, added);
    await ui.runCommand('MCP Policy: Start Local Proxy');
    const warning = page.locator('.notifications-toasts .notification-toast').filter({ hasText: /filesystem, memory are in \.vscode\/mcp\.json unguarded, next to the guarded one/ });
    await warning.waitFor({ state: 'visible', timeout: 20_000 });
    await ui.screenshot('guard-6-bypass-warning');
    await warning.getByRole('button', { name: 'Guard These Servers' }).click();
    await poll('the servers moved out again', () => (!readFileSync(config, 'utf8').includes('mcp-server-') ? true : undefined), 60_000);
    await expectText(statusItem, /MCP Policy: on · 3 servers/, 60_000);
    const policy = JSON.parse(readFileSync(policyFile, 'utf8')) as { servers: Record<string, { upstream: unknown; tools?: Record<string, unknown> }> };
    assert.deepEqual(policy.servers.everything?.upstream, { command: bin('mcp-server-everything'), cwd: '..' });
    assert.deepEqual(policy.servers.everything?.tools?.echo, {}, 'the new server gets the starting recipe');
    const rows = await listUntil(listedOnceGuarded(['filesystem', 'memory', 'everything']));
    assert.ok(listedOnceGuarded(['filesystem', 'memory', 'everything'])(rows), JSON.stringify(rows));
    await ui.screenshot('guard-7-guarded-again');
  });
});
