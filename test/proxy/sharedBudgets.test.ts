/**
 * Budgets shared by every mcp-policy process of the user (the embedded counter store): the
 * FluentCRM case from the README, end to end through the real CLI and the demo CRM server.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { connectThroughProxy, repoRoot, tempFolder, writePolicy, type Connected } from './helpers';

const demoServer = join(repoRoot, 'dist', 'demo-crm-server.js');

function resumesReceived(logFile: string): number {
  if (!existsSync(logFile)) return 0;
  return readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0 && (JSON.parse(line) as { tool: string }).tool === 'fluentcrm_resume_campaign').length;
}

interface Setup {
  policy: string;
  env: Record<string, string>;
  logFile: string;
}

function setup(t: TestContext): Setup {
  const folder = tempFolder(t);
  const policy = writePolicy(folder, {
    version: '1',
    default: 'deny',
    tools: {
      fluentcrm_resume_campaign: {
        reason: 'Sends mail to every contact of the campaign',
        limits: [{ counter: 'fluentcrm_resume_campaign_rate', window: 'minute', max: 10, scope: 'grant' }],
      },
    },
  });
  const logFile = join(folder, 'crm-calls.jsonl');
  // Every proxy gets its own HOME (helpers.ts); the store they share is named explicitly.
  return { policy, logFile, env: { MCP_POLICY_COUNTERS: join(folder, 'counters'), DEMO_CRM_LOG: logFile } };
}

function stdioProxy(t: TestContext, { policy, env }: Setup): Promise<Connected> {
  return connectThroughProxy(t, 'stdio', { policy, upstream: [process.execPath, demoServer], env });
}

async function resume(connected: Connected, campaignId: number): Promise<CallToolResult> {
  return (await connected.client.callTool({ name: 'fluentcrm_resume_campaign', arguments: { campaignId } })) as CallToolResult;
}

function firstText(result: CallToolResult): string {
  const first = result.content[0];
  return first && first.type === 'text' ? first.text : '';
}

test('FluentCRM: 3 stdio proxies one after another and 2 at once, 25 resumes under 10/minute per grant: exactly 10 reach the server; after killing and restarting, the 11th is still refused', async (t) => {
  const shared = setup(t);
  const results: CallToolResult[] = [];
  // Agents start a stdio server per session: three sessions, one after another, 5 resumes each.
  for (let session = 0; session < 3; session++) {
    const proxy = await stdioProxy(t, shared);
    for (let call = 0; call < 5; call++) results.push(await resume(proxy, 5));
    await proxy.client.close();
  }
  // Then two sessions at once, 5 resumes each, all in flight together.
  const [first, second] = await Promise.all([stdioProxy(t, shared), stdioProxy(t, shared)]);
  results.push(...(await Promise.all([first!, second!].flatMap((proxy) => Array.from({ length: 5 }, () => resume(proxy, 5))))));
  assert.equal(results.length, 25);
  assert.equal(results.filter((result) => result.isError !== true).length, 10, 'exactly 10 admitted');
  const refused = results.filter((result) => result.isError === true);
  assert.equal(refused.length, 15);
  for (const result of refused) assert.match(firstText(result), /^\[POLICY RATE LIMITED\] fluentcrm_resume_campaign: counter fluentcrm_resume_campaign_rate: 10 per minute reached/);
  assert.equal(resumesReceived(shared.logFile), 10, 'exactly 10 reached the CRM server');

  // Kill every proxy (no clean shutdown), start a new one: the budget is where it was.
  for (const proxy of [first!, second!]) process.kill(proxy.pid, 'SIGKILL');
  const restarted = await stdioProxy(t, shared);
  const eleventh = await resume(restarted, 5);
  assert.equal(eleventh.isError, true);
  assert.match(firstText(eleventh), /\[POLICY RATE LIMITED\].*10 per minute reached.*Retry after \d+ s/);
  const event = (eleventh._meta as Record<string, { retryAfterMs?: number; decision?: string }>)['mcp-policy/decision'];
  assert.equal(event?.decision, 'rate_limited');
  assert.ok((event?.retryAfterMs ?? 0) > 0 && (event?.retryAfterMs ?? 0) <= 60_000, 'refused until the window slides past the first admission');
  assert.equal(resumesReceived(shared.logFile), 10);
});

test('the counter store is named by MCP_POLICY_COUNTERS; memory there keeps budgets per process', async (t) => {
  const shared = setup(t);
  const env = { ...shared.env, MCP_POLICY_COUNTERS: 'memory' };
  let admitted = 0;
  for (let session = 0; session < 2; session++) {
    const proxy = await connectThroughProxy(t, 'stdio', { policy: shared.policy, upstream: [process.execPath, demoServer], env });
    for (let call = 0; call < 7; call++) if ((await resume(proxy, 5)).isError !== true) admitted++;
    await proxy.client.close();
  }
  assert.equal(admitted, 14, 'each process started with a fresh budget of 10: 7 + 7');
});
