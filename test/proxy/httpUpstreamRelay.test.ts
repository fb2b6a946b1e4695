/**
 * server-everything over Streamable HTTP behind `proxy --url`: the upstream session is fully up
 * before anything is forwarded, so its requests to the client and its early log messages
 * arrive as they do direct; and an upstream killed mid-call fails that call at once.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { connectThroughProxy, modes, newClient, tempFolder, textOf, waitFor, writePolicy, type Mode } from './helpers';
import { answerServerRequests, answeringCapabilities, newClientSide, startEverythingHttp, type ClientSide } from './httpUpstream';
import { startLateStreamServer } from './lateStreamServer';

const SESSIONS = 20;
/** Far below the proxy's 5-minute call timeout: a call that waits for it fails the test. */
const PROMPT_MS = 20000;

async function connectDirect(t: TestContext, url: string, seen: ClientSide): Promise<Client> {
  const client = newClient(answeringCapabilities);
  answerServerRequests(client, seen);
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  t.after(() => client.close());
  return client;
}

/**
 * SESSIONS fresh sessions straight to the server, then SESSIONS through `proxy --url` over
 * `mode`, each run through `exercise` with a client that answers the server's requests.
 */
async function directThenProxied(t: TestContext, mode: Mode, url: string, exercise: (client: Client, seen: ClientSide, label: string) => Promise<void>): Promise<void> {
  for (let i = 0; i < SESSIONS; i++) {
    const seen = newClientSide();
    const client = await connectDirect(t, url, seen);
    await exercise(client, seen, `direct session ${i}`);
    await client.close();
  }
  const policy = writePolicy(tempFolder(t), { version: '1', default: 'allow' });
  for (let i = 0; i < SESSIONS; i++) {
    const seen = newClientSide();
    const proxied = await connectThroughProxy(t, mode, {
      policy,
      args: ['--url', url],
      capabilities: answeringCapabilities,
      prepare: (client) => answerServerRequests(client, seen),
    });
    await exercise(proxied.client, seen, `proxied session ${i}`);
    await proxied.client.close();
  }
}

/** One fresh session: sampling and elicitation tools called at once, then the roots log message. */
async function exerciseSession(client: Client, seen: ClientSide, label: string): Promise<void> {
  const sampling = await client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'hello' } }, undefined, { timeout: PROMPT_MS });
  assert.equal(sampling.isError, undefined, `${label}: sampling failed: ${textOf(sampling)}`);
  assert.match(textOf(sampling), /sampled answer/, label);
  const elicitation = await client.callTool({ name: 'trigger-elicitation-request', arguments: {} }, undefined, { timeout: PROMPT_MS });
  assert.notEqual(elicitation.isError, true, `${label}: elicitation failed: ${textOf(elicitation)}`);
  // server-everything asks for the roots 350 ms after initialized, on its GET stream, then logs them.
  await waitFor(() => seen.logs.some((line) => /Roots updated: 1 root/.test(line)), 10000, `${label}: the roots log message`);
}

describe('server-everything over Streamable HTTP as the upstream', () => {
  for (const mode of modes) {
    test(`sampling, elicitation and the early log message on ${SESSIONS} fresh sessions, direct and through proxy --url over ${mode}`, async (t) => {
      const server = await startEverythingHttp(t);
      await directThenProxied(t, mode, server.url, async (client, seen, label) => {
        await exerciseSession(client, seen, label);
        assert.deepEqual([seen.sampled, seen.elicited, seen.rootsListed], [1, 1, 1], label);
      });
    });
  }
});

/** A fresh session: the log level set at once, then tools whose server asks the client on its GET stream. */
async function exerciseGetStream(client: Client, seen: ClientSide, label: string): Promise<void> {
  await client.setLoggingLevel('info');
  const sampling = await client.callTool({ name: 'ask-sampling', arguments: {} }, undefined, { timeout: PROMPT_MS });
  assert.match(textOf(sampling), /sampled answer/, label);
  const elicitation = await client.callTool({ name: 'ask-elicitation', arguments: {} }, undefined, { timeout: PROMPT_MS });
  assert.equal(textOf(elicitation), 'elicited: decline', label);
  await waitFor(() => seen.logs.includes('Log level set to info'), 10000, `${label}: the "Log level set" message`);
  assert.deepEqual([seen.sampled, seen.elicited], [1, 1], label);
}

describe('a server that asks the client on its GET stream, slow to accept initialized', () => {
  for (const mode of modes) {
    test(`its requests and early log message reach the client on ${SESSIONS} fresh sessions, direct and through proxy --url over ${mode}`, async (t) => {
      const server = await startLateStreamServer(t);
      await directThenProxied(t, mode, server.url, exerciseGetStream);
    });
  }
});

test('a server that offers no GET stream (405) is used at once through proxy --url', async (t) => {
  const server = await startLateStreamServer(t, { offersGetStream: false });
  const policy = writePolicy(tempFolder(t), { version: '1', default: 'allow' });
  for (let i = 0; i < 3; i++) {
    const proxied = await connectThroughProxy(t, 'stdio', { policy, args: ['--url', server.url] });
    // Unknown to the server, answered on the call's own stream: no GET stream is needed for it.
    // The bound is below the link's 10 s fallback for a GET that never settles: 405 settles it.
    const result = await proxied.client.callTool({ name: 'no-such-tool', arguments: {} }, undefined, { timeout: 8000 });
    assert.equal(textOf(result), 'unknown tool no-such-tool');
    await proxied.client.close();
  }
});

for (const mode of modes) {
  describe(`a --url upstream that dies, through proxy over ${mode}`, () => {
    test('killing it mid-call fails the call at once; once it is back, the next calls reconnect', async (t) => {
      const server = await startEverythingHttp(t);
      const seen = newClientSide();
      const proxied = await connectThroughProxy(t, mode, {
        policy: writePolicy(tempFolder(t), { version: '1', default: 'allow' }),
        args: ['--url', server.url],
        capabilities: answeringCapabilities,
        prepare: (client) => answerServerRequests(client, seen),
      });
      assert.equal(textOf(await proxied.client.callTool({ name: 'echo', arguments: { message: 'before' } })), 'Echo: before');
      let progressed = 0;
      const running = proxied.client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 60, steps: 120 } }, undefined, {
        onprogress: () => progressed++,
        timeout: PROMPT_MS,
      });
      await waitFor(() => progressed > 0, 10000, 'the long call to start');
      await server.kill();
      const failed = await running;
      assert.equal(failed.isError, true);
      assert.match(textOf(failed), /^\[UPSTREAM FAILED\] trigger-long-running-operation: upstream "default" broke off the connection: /);

      await startEverythingHttp(t, server.port);
      assert.equal(textOf(await proxied.client.callTool({ name: 'echo', arguments: { message: 'after' } }, undefined, { timeout: PROMPT_MS })), 'Echo: after');
      // The new upstream session was initialized with the client's capabilities and was fully up first.
      const sampling = await proxied.client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'again' } }, undefined, { timeout: PROMPT_MS });
      assert.match(textOf(sampling), /sampled answer/);
      assert.equal(seen.sampled, 1);
    });
  });
}
