/**
 * The VS Code extension's own credential and port (client/proxyIdentity.ts), without VS Code:
 * workspaceState and SecretStorage are maps here, the TokenStore, the CLI, the listeners and the
 * proxy host are the real ones.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { DecisionEvent } from '../../core';
import {
  CREDENTIAL_NAME_KEY,
  credentialBaseName,
  PORT_KEY,
  startOnWorkspacePort,
  workspaceCredential,
  type SecretStore,
  type WorkspaceMemento,
} from '../../client/proxyIdentity';
import { HttpProxyHost } from '../../proxy/serveHost';
import { TokenStore } from '../../proxy/tokens';
import { cli, connectHttp, repoRoot, tempFolder, textOf, writePolicy } from '../proxy/helpers';

/** context.workspaceState / context.secrets as VS Code keeps them: values that outlive the window. */
class MapMemento implements WorkspaceMemento {
  readonly values = new Map<string, unknown>();
  get<T>(key: string): T | undefined {
    return this.values.get(key) as T | undefined;
  }
  async update(key: string, value: unknown): Promise<void> {
    this.values.set(key, value);
  }
}

class MapSecrets implements SecretStore {
  readonly values = new Map<string, string>();
  async get(key: string): Promise<string | undefined> {
    return this.values.get(key);
  }
  async store(key: string, value: string): Promise<void> {
    this.values.set(key, value);
  }
}

function tokenCli(file: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [cli, 'token', ...args], { encoding: 'utf8', env: { ...process.env, MCP_POLICY_TOKENS: file } });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

function tokensFile(t: TestContext): string {
  return join(tempFolder(t), 'private', 'tokens.json');
}

test('the name: "vscode-<workspace>" in the characters a token name may have', () => {
  assert.equal(credentialBaseName('my-project'), 'vscode-my-project');
  assert.equal(credentialBaseName('Shop API (Workspace)'), 'vscode-Shop-API-Workspace');
  assert.equal(credentialBaseName('café'), 'vscode-cafe');
  assert.equal(credentialBaseName('Мой проект'), 'vscode');
  assert.equal(credentialBaseName(undefined), 'vscode');
  assert.equal(credentialBaseName('.hidden'), 'vscode-hidden');
  const long = credentialBaseName('x'.repeat(200));
  assert.ok(long.length <= 64 - 3, `${long.length} characters leave no room for a suffix`);
});

test('one credential per workspace: made once, kept across starts and processes, listed and revocable by the CLI, renewed under the same name', async (t) => {
  const file = tokensFile(t);
  const state = new MapMemento();
  const secrets = new MapSecrets();

  const first = await workspaceCredential(state, secrets, new TokenStore(file), 'shop');
  assert.equal(first.name, 'vscode-shop');
  assert.equal(first.origin, 'created');
  assert.match(first.token, /^mcpp_/);
  assert.equal(state.get(CREDENTIAL_NAME_KEY), 'vscode-shop');
  assert.ok(!readFileSync(file, 'utf8').includes(first.token.slice(5)), 'only the hash is in the token file');
  assert.ok(![...state.values.values()].includes(first.token), 'the token is not in workspaceState');
  assert.deepEqual([...secrets.values.values()], [first.token], 'the token is in SecretStorage');

  // Stop/Start, and a reload (a new extension host: a new TokenStore over the same file).
  const again = await workspaceCredential(state, secrets, new TokenStore(file), 'shop');
  assert.deepEqual(again, { ...first, origin: 'kept' });
  assert.equal(new TokenStore(file).grantFor(`Bearer ${first.token}`), 'vscode-shop');
  const listed = tokenCli(file, 'list');
  assert.equal(listed.status, 0, listed.stderr);
  assert.match(listed.stdout, /^vscode-shop\t/m);

  // Revoked by the user: the old token is refused at once; the next start gives the same name a new token.
  assert.equal(tokenCli(file, 'revoke', 'vscode-shop').status, 0);
  assert.equal(new TokenStore(file).grantFor(`Bearer ${first.token}`), undefined);
  const renewed = await workspaceCredential(state, secrets, new TokenStore(file), 'shop');
  assert.equal(renewed.name, 'vscode-shop');
  assert.equal(renewed.origin, 'renewed');
  assert.notEqual(renewed.token, first.token);
  assert.equal(new TokenStore(file).grantFor(`Bearer ${renewed.token}`), 'vscode-shop');

  // The secret lost (SecretStorage cleared, another browser on code-server): same name, new token.
  const lost = await workspaceCredential(state, new MapSecrets(), new TokenStore(file), 'shop');
  assert.equal(lost.name, 'vscode-shop');
  assert.equal(lost.origin, 'renewed');
  assert.equal(new TokenStore(file).grantFor(`Bearer ${renewed.token}`), undefined, 'the replaced token is refused');
  assert.equal(new TokenStore(file).list().filter((token) => token.name.startsWith('vscode')).length, 1, 'no credential left behind');

  // The workspace renamed: the credential keeps its name, and with it the grant's budgets.
  assert.equal((await workspaceCredential(state, new MapSecrets(), new TokenStore(file), 'shop-renamed')).name, 'vscode-shop');
});

test('two workspaces with the same folder name get two credentials; a name the user took is not taken over', async (t) => {
  const file = tokensFile(t);
  assert.equal(tokenCli(file, 'create', 'vscode-app').status, 0, 'the user made a token of that name by hand');
  const userToken = new TokenStore(file).list()[0]!;
  const secrets = new MapSecrets(); // SecretStorage is one per extension, shared by its workspaces
  const one = await workspaceCredential(new MapMemento(), secrets, new TokenStore(file), 'app');
  const two = await workspaceCredential(new MapMemento(), secrets, new TokenStore(file), 'app');
  assert.deepEqual([one.name, two.name], ['vscode-app-2', 'vscode-app-3']);
  const store = new TokenStore(file);
  assert.equal(store.grantFor(`Bearer ${one.token}`), 'vscode-app-2');
  assert.equal(store.grantFor(`Bearer ${two.token}`), 'vscode-app-3');
  assert.deepEqual(store.list().find((token) => token.name === 'vscode-app'), userToken);
});

test('a token file that cannot be read: the start fails with a reason naming the file', async (t) => {
  const file = tokensFile(t);
  new TokenStore(file).create('someone', {});
  writeFileSync(file, '{ "tokens": ');
  await assert.rejects(workspaceCredential(new MapMemento(), new MapSecrets(), new TokenStore(file), 'shop'), (error: Error) => {
    assert.match(error.message, /^The credential of this workspace cannot be read \(.*tokens\.json\): .*tokens\.json is not JSON/);
    return true;
  });
});

function listenOn(port: number): Promise<Server & { port: number }> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      resolve(Object.assign(server, { port: typeof address === 'object' && address ? address.port : 0 }));
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

test('the port: a free one at the first start, remembered; the same one next time; a free one (and word of it) when taken', async (t) => {
  const state = new MapMemento();
  const opened: Server[] = [];
  t.after(() => Promise.all(opened.map((server) => close(server).catch(() => undefined))));
  const start = async (port: number): Promise<Server & { port: number }> => {
    const server = await listenOn(port);
    opened.push(server);
    return server;
  };

  const first = await startOnWorkspacePort(state, 0, start);
  assert.ok(first.started.port > 0);
  assert.equal(first.movedFrom, undefined);
  assert.equal(state.get(PORT_KEY), first.started.port);
  await close(first.started);

  const second = await startOnWorkspacePort(state, 0, start);
  assert.equal(second.started.port, first.started.port, 'the same port after Stop/Start');
  assert.equal(second.movedFrom, undefined);
  await close(second.started);

  const squatter = await start(first.started.port);
  const third = await startOnWorkspacePort(state, 0, start);
  assert.equal(third.movedFrom, first.started.port);
  assert.notEqual(third.started.port, first.started.port);
  assert.equal(state.get(PORT_KEY), third.started.port, 'the new port is kept from now on');
  await close(third.started);
  await close(squatter);

  // A port set by the user is used as it is: not remembered, and a clash is an error.
  const fixed = await listenOn(0);
  const fixedPort = fixed.port;
  await close(fixed);
  const configured = await startOnWorkspacePort(state, fixedPort, start);
  assert.equal(configured.started.port, fixedPort);
  assert.equal(state.get(PORT_KEY), third.started.port);
  await assert.rejects(startOnWorkspacePort(state, fixedPort, start), { code: 'EADDRINUSE' });

  // Any other failure is not taken for a clash: no second start.
  let attempts = 0;
  await assert.rejects(
    startOnWorkspacePort(state, 0, async () => {
      attempts++;
      throw new Error('the policy is invalid');
    }),
    /the policy is invalid/,
  );
  assert.equal(attempts, 1);
});

test('through the real proxy host: the workspace credential is the grant of every call; its budget and its configuration survive a restart', async (t) => {
  const folder = tempFolder(t);
  // The embedded store the extension uses, in a folder of this test (read when the host starts).
  process.env['MCP_POLICY_COUNTERS'] = join(folder, 'counters');
  const calls = join(folder, 'crm-calls.jsonl');
  const policyPath = writePolicy(folder, {
    version: '1',
    default: 'deny',
    tools: { fluentcrm_resume_campaign: { limits: [{ counter: 'resumes', window: 'hour', max: 3, scope: 'grant' }] } },
    servers: { crm: { upstream: { command: process.execPath, args: [join(repoRoot, 'dist', 'demo-crm-server.js')], env: { DEMO_CRM_LOG: calls } } } },
  });
  const file = tokensFile(t);
  const state = new MapMemento();
  const secrets = new MapSecrets();
  const decisions: DecisionEvent[] = [];
  let running: HttpProxyHost | undefined;
  t.after(() => running?.stop());

  /** What LocalProxy.doStart does, minus VS Code: credential, then the workspace's port. */
  const startLikeTheExtension = async (): Promise<{ url: string; token: string; port: number }> => {
    const tokens = new TokenStore(file);
    const credential = await workspaceCredential(state, secrets, tokens, 'shop');
    const { started } = await startOnWorkspacePort(state, 0, async (port) => {
      const host = new HttpProxyHost({ policyPath, port, tokenFile: false, tokens });
      host.on('decision', (event) => decisions.push(event));
      try {
        return { host, port: (await host.start()).port };
      } catch (error) {
        await host.stop();
        throw error;
      }
    });
    running = started.host;
    return { url: started.host.status!.servers[0]!.url, token: credential.token, port: started.port };
  };
  const resume = async (url: string, token: string, n: number): Promise<CallToolResult[]> => {
    const client = await connectHttp(t, url, token);
    const results: CallToolResult[] = [];
    for (let i = 0; i < n; i++) results.push((await client.callTool({ name: 'fluentcrm_resume_campaign', arguments: { campaignId: 5 } })) as CallToolResult);
    await client.close();
    return results;
  };

  const before = await startLikeTheExtension();
  assert.deepEqual((await resume(before.url, before.token, 2)).map((result) => result.isError), [undefined, undefined]);
  await running!.stop();
  running = undefined;
  // fetch's connection pool in this process learns late that the old listener closed its
  // sockets, and would send the next request on one (a client of its own process never does).
  await new Promise((resolve) => setTimeout(resolve, 300));

  const after = await startLikeTheExtension();
  assert.deepEqual(after, before, 'the configuration copied before the restart is still the one');
  const results = await resume(before.url, before.token, 2);
  assert.equal(results[0]!.isError, undefined);
  assert.equal(results[1]!.isError, true, 'the grant budget (3 per hour) outlived the restart');
  assert.match(textOf(results[1]), /^\[POLICY RATE LIMITED\] fluentcrm_resume_campaign: counter resumes: 3 per hour reached/);
  assert.deepEqual(
    decisions.map((event) => [event.decision, event.grant]),
    [
      ['allowed', 'vscode-shop'],
      ['allowed', 'vscode-shop'],
      ['allowed', 'vscode-shop'],
      ['rate_limited', 'vscode-shop'],
    ],
  );
  assert.equal(existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n').length : 0, 3, 'exactly 3 reached the server');

  // Revoked while the proxy runs: refused from the next request on.
  assert.equal(tokenCli(file, 'revoke', 'vscode-shop').status, 0);
  const refused = await fetch(after.url, { method: 'POST', headers: { authorization: `Bearer ${before.token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' });
  assert.equal(refused.status, 401);
});
