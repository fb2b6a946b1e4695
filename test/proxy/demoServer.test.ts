/**
 * The demo FluentCRM server (dist/demo-crm-server.js) driven by the SDK's own client, and the
 * main job (dist/demo-agent.js) run as the README tells users to run it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { newClient, repoRoot, tempFolder } from './helpers';

const demoServer = join(repoRoot, 'dist', 'demo-crm-server.js');
const demoAgent = join(repoRoot, 'dist', 'demo-agent.js');

interface Logged {
  tool: string;
  arguments: Record<string, unknown>;
  request?: string;
  resolvesTo?: string;
  ok: boolean;
  error?: string;
  sent?: Array<{ campaignId: number; to: string; subject: string }>;
}

async function connectDemo(t: TestContext): Promise<{ call: (name: string, args: Record<string, unknown>) => Promise<CallToolResult>; log: () => Logged[]; client: ReturnType<typeof newClient> }> {
  const folder = tempFolder(t);
  const logFile = join(folder, 'calls.jsonl');
  const client = newClient();
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [demoServer], env: { DEMO_CRM_LOG: logFile }, stderr: 'ignore' }));
  t.after(() => client.close());
  return {
    client,
    call: async (name, args) => (await client.callTool({ name, arguments: args })) as CallToolResult,
    log: () =>
      readFileSync(logFile, 'utf8')
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => JSON.parse(line) as Logged),
  };
}

function json(result: CallToolResult): unknown {
  const first = result.content[0];
  assert.ok(first && first.type === 'text', 'a text answer');
  return JSON.parse(first.text);
}

test('demo server: tools/list serves the fixture tools exactly, under serverInfo fluentcrm-mcp 1.0.0', async (t) => {
  const { client } = await connectDemo(t);
  const fixture = JSON.parse(readFileSync(join(repoRoot, 'test', 'fixtures', 'fluentcrm.tools-list.json'), 'utf8')) as {
    result: { tools: unknown[] };
  };
  const listed = await client.listTools();
  assert.equal(listed.nextCursor, undefined);
  assert.equal(listed.tools.length, 36);
  assert.deepEqual(listed.tools, fixture.result.tools);
  assert.deepEqual(client.getServerVersion(), { name: 'fluentcrm-mcp', version: '1.0.0' });
});

test('demo server: resume_campaign mails every contact of the campaign into the outbox, once each', async (t) => {
  const { call, log } = await connectDemo(t);
  const first = json(await call('fluentcrm_resume_campaign', { campaignId: 5 })) as { sent: Array<{ to: string }> };
  assert.deepEqual(
    first.sent.map((mail) => mail.to),
    ['ada@example.com', 'alan@example.com', 'grace@example.com'],
  );
  const again = json(await call('fluentcrm_resume_campaign', { campaignId: 5 })) as { sent: unknown[] };
  assert.equal(again.sent.length, 0, 'resuming continues with the contacts not mailed yet');
  const stats = json(await call('fluentcrm_dashboard_stats', {})) as { emails_sent: number };
  assert.equal(stats.emails_sent, 3);
  const resumes = log().filter((line) => line.tool === 'fluentcrm_resume_campaign');
  assert.deepEqual(
    resumes.map((line) => [line.request, line.sent?.length]),
    [
      ['POST /campaigns/5/resume', 3],
      ['POST /campaigns/5/resume', 0],
    ],
  );
});

test('demo server: does not validate arguments, and logs the request a crafted id would really make', async (t) => {
  const { call, log } = await connectDemo(t);
  const crafted = await call('fluentcrm_delete_contact', { subscriberId: '1/../../campaigns/5/resume' });
  assert.equal(crafted.isError, true, 'no contact by that id: the API refuses, after the request went out');
  // A string id is taken as given, like the real server does.
  const stringId = json(await call('fluentcrm_get_contact', { subscriberId: '2' })) as { subscriber: { email: string } };
  assert.equal(stringId.subscriber.email, 'alan@example.com');
  const deleted = await call('fluentcrm_delete_contact', { subscriberId: 4 });
  assert.equal(deleted.isError, undefined);
  const lines = log();
  assert.deepEqual(
    lines.map((line) => ({ tool: line.tool, arguments: line.arguments, request: line.request, resolvesTo: line.resolvesTo, ok: line.ok })),
    [
      {
        tool: 'fluentcrm_delete_contact',
        arguments: { subscriberId: '1/../../campaigns/5/resume' },
        request: 'DELETE /subscribers/1/../../campaigns/5/resume',
        resolvesTo: 'DELETE /campaigns/5/resume',
        ok: false,
      },
      { tool: 'fluentcrm_get_contact', arguments: { subscriberId: '2' }, request: 'GET /subscribers/2', resolvesTo: undefined, ok: true },
      { tool: 'fluentcrm_delete_contact', arguments: { subscriberId: 4 }, request: 'DELETE /subscribers/4', resolvesTo: undefined, ok: true },
    ],
  );
  const contacts = json(await call('fluentcrm_list_contacts', {})) as { total: number };
  assert.equal(contacts.total, 4, 'the delete took effect in the in-memory CRM');
});

test('main job: the scripted agent through mcp-policy serve shows allowed, denied, invalid_arguments and rate_limited', async () => {
  const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [demoAgent], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
  const decisions = [...run.stdout.matchAll(/=> ([A-Z_]+)/g)].map((match) => match[1]);
  assert.deepEqual(decisions, ['ALLOWED', 'DENIED', 'INVALID_ARGUMENTS', 'ALLOWED', 'ALLOWED', 'RATE_LIMITED']);
  assert.match(run.stdout, /rule hide\[0\]/);
  assert.match(run.stdout, /\/subscriberId must be/);
  assert.match(run.stdout, /counter campaign_sends: 2 per minute/);
  assert.match(run.stdout, /the agent sees 31 of the server's 36 tools/);
  assert.match(run.stdout, /Outbox: 6 mails/);
  // Only what the policy allowed reached the upstream.
  const upstream = run.stdout.slice(run.stdout.indexOf('What reached the upstream'), run.stdout.indexOf('Outbox'));
  assert.deepEqual(
    [...upstream.matchAll(/^ {3}(fluentcrm_\w+)/gm)].map((match) => match[1]),
    ['fluentcrm_list_contacts', 'fluentcrm_resume_campaign', 'fluentcrm_resume_campaign'],
  );
});
