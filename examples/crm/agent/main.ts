/**
 * The main job, end to end: `mcp-policy serve` guards the demo FluentCRM server with
 * examples/crm/mcp-policy.json, and a scripted agent (the SDK's own MCP client over
 * Streamable HTTP) makes the calls an over-eager agent would make. Each call prints the
 * proxy's decision (from its audit log); at the end the demo server's own call log and
 * outbox show what really reached it. Exit 0 when every step got the decision the policy
 * promises, 1 otherwise.
 *
 * Run it after `npm run build` with `npm run demo` (or `node dist/demo-agent.js`); with
 * `-- --audit FILE` the audit log is kept there (for `mcp-policy replay FILE --policy DRAFT`).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Decision, DecisionEvent } from '../../../core';
import type { CallRecord } from '../server/callLog';
import { JsonLinesTail } from './jsonLines';
import { startServe, type RunningServe } from './serveProcess';

const SERVER = 'fluentcrm';
const META_KEY = 'mcp-policy/decision';

interface Step {
  title: string;
  tool: string;
  arguments: Record<string, unknown>;
  expect: Decision;
  /** What the answer means, for allowed calls. */
  summarize?: (result: CallToolResult) => string;
}

const STEPS: Step[] = [
  {
    title: 'Read: list the contacts',
    tool: 'fluentcrm_list_contacts',
    arguments: { per_page: 10 },
    expect: 'allowed',
    summarize: (result) => {
      const data = parseText(result) as { total?: number } | undefined;
      return `${data?.total ?? '?'} contacts`;
    },
  },
  {
    title: 'Delete a contact (a hidden tool, called anyway)',
    tool: 'fluentcrm_delete_contact',
    arguments: { subscriberId: 3 },
    expect: 'denied',
  },
  {
    title: 'Update a contact with a crafted id: PUT /subscribers/1/../../campaigns/5/resume would land on PUT /campaigns/5/resume',
    tool: 'fluentcrm_update_contact',
    arguments: { subscriberId: '1/../../campaigns/5/resume', first_name: 'Ada' },
    expect: 'invalid_arguments',
  },
  ...[5, 6, 7].map(
    (campaignId, index): Step => ({
      title: `Send: resume campaign ${campaignId} (${index + 1} of 3; the policy allows 2 per minute)`,
      tool: 'fluentcrm_resume_campaign',
      arguments: { campaignId },
      expect: index < 2 ? 'allowed' : 'rate_limited',
      summarize: (result) => {
        const data = parseText(result) as { message?: string } | undefined;
        return data?.message ?? 'resumed';
      },
    }),
  ),
];

async function main(): Promise<number> {
  const root = packageRoot();
  const cli = join(root, 'dist', 'cli.js');
  const policy = join(root, 'examples', 'crm', 'mcp-policy.json');
  for (const needed of [cli, join(root, 'dist', 'demo-crm-server.js')]) {
    if (!existsSync(needed)) {
      process.stderr.write(`demo: ${relative(process.cwd(), needed)} is missing; run npm run build first\n`);
      return 1;
    }
  }
  const work = mkdtempSync(join(tmpdir(), 'mcp-policy-demo-'));
  const kept = parseArgs({ options: { audit: { type: 'string' } } }).values.audit;
  const audit = kept ? resolve(kept) : join(work, 'audit.jsonl');
  const upstreamLog = join(work, 'upstream-calls.jsonl');
  const token = randomBytes(24).toString('hex');
  let serve: RunningServe | undefined;
  let client: Client | undefined;
  try {
    // DEMO_CRM_LOG reaches the demo server because the proxy starts upstreams with its own environment.
    serve = await startServe({ cli, policy, token, audit, tokenFile: join(work, 'serve.token'), env: { ...process.env, DEMO_CRM_LOG: upstreamLog }, startTimeoutMs: 20_000 });
    const url = `${serve.origin}/servers/${SERVER}/mcp`;
    print(`mcp-policy demo: a scripted agent talks to the FluentCRM demo server through mcp-policy serve`);
    print(`  policy  ${relative(process.cwd(), policy) || policy}`);
    print(`  proxy   ${url} (bearer token required, audit log on)`);

    client = new Client({ name: 'mcp-policy-demo-agent', version: '1.0.0' }, { capabilities: {} });
    await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
    const visible = await listAllTools(client);
    const recorded = catalogToolNames(join(root, 'examples', 'crm', 'mcp-policy.catalog.json'));
    const hidden = recorded.filter((name) => !visible.includes(name));
    print('');
    print(`tools/list: the agent sees ${visible.length} of the server's ${recorded.length || '?'} tools; hidden by the policy: ${hidden.join(', ') || 'none'}`);

    const auditTail = new JsonLinesTail<DecisionEvent>(audit);
    const seen = new Map<Decision, number>();
    let surprises = 0;
    for (const [index, step] of STEPS.entries()) {
      print('');
      print(`${index + 1}. ${step.title}`);
      print(`   call ${step.tool} ${JSON.stringify(step.arguments)}`);
      const result = (await client.callTool({ name: step.tool, arguments: step.arguments })) as CallToolResult;
      const event = blockedEvent(result) ?? (await decisionFromAudit(auditTail, step.tool));
      const decision = event?.decision ?? (result.isError ? 'unknown' : 'allowed');
      if (event) seen.set(event.decision, (seen.get(event.decision) ?? 0) + 1);
      const detail = event && event.decision !== 'allowed' ? event.reason : step.summarize?.(result) ?? '';
      print(`   => ${decision.toUpperCase().padEnd(17)} ${event ? `rule ${event.rule}` : ''}${detail ? `: ${detail}` : ''}`);
      if (decision !== step.expect) {
        surprises++;
        print(`   !! expected ${step.expect}`);
      }
    }

    print('');
    print('What reached the upstream (the demo server logs every call it receives):');
    const calls = JsonLinesTail.all<CallRecord>(upstreamLog);
    for (const call of calls) {
      const sent = call.sent ? ` -> ${call.sent.length} mails sent` : '';
      print(`   ${call.tool.padEnd(28)} ${call.request ?? ''}${call.resolvesTo ? ` (lands on ${call.resolvesTo})` : ''}${call.ok ? '' : ` failed: ${call.error}`}${sent}`);
    }
    const outbox = calls.flatMap((call) => call.sent ?? []);
    print(`Outbox: ${outbox.length} mails`);
    for (const mail of outbox) print(`   campaign ${mail.campaignId} -> ${mail.to}: "${mail.subject}"`);
    const blockedReached = calls.filter((call) => call.tool === 'fluentcrm_delete_contact' || call.tool === 'fluentcrm_update_contact' || call.resolvesTo !== undefined);
    const resumes = calls.filter((call) => call.tool === 'fluentcrm_resume_campaign').length;
    if (blockedReached.length > 0 || resumes !== 2) {
      surprises++;
      print(`   !! expected no delete, no crafted id and exactly 2 resumes upstream`);
    }

    const auditLines = JsonLinesTail.all<DecisionEvent>(audit);
    const outcomes = auditLines.filter((line) => line.upstream !== undefined).length;
    print(`Audit log: ${auditLines.length - outcomes} decisions and ${outcomes} upstream outcomes, one JSON line each${kept ? `, kept in ${relative(process.cwd(), audit) || audit}` : ''}`);

    print('');
    const order: Decision[] = ['allowed', 'approved', 'denied', 'invalid_arguments', 'rate_limited', 'rejected'];
    print(`Decisions: ${order.filter((d) => seen.has(d)).map((d) => `${d} ${seen.get(d)!}`).join(', ')}`);
    print(surprises === 0 ? 'Every call got the decision the policy promises.' : `${surprises} step(s) did not go as the policy promises.`);
    return surprises === 0 ? 0 : 1;
  } catch (error) {
    process.stderr.write(`demo: ${(error as Error).message}\n`);
    if (serve) process.stderr.write(`--- mcp-policy serve said:\n${serve.stderr()}\n`);
    return 1;
  } finally {
    await client?.close().catch(() => undefined);
    await serve?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

function parseText(result: CallToolResult): unknown {
  const first = result.content[0];
  if (!first || first.type !== 'text') return undefined;
  try {
    return JSON.parse(first.text);
  } catch {
    return undefined;
  }
}

/** A blocked answer carries its decision event in _meta (spec: "Answer to a blocked call"). */
function blockedEvent(result: CallToolResult): DecisionEvent | undefined {
  const event = result._meta?.[META_KEY];
  return event && typeof event === 'object' ? (event as DecisionEvent) : undefined;
}

/** An allowed call's answer is the upstream's own; its decision is in the audit log, written before forwarding. */
async function decisionFromAudit(tail: JsonLinesTail<DecisionEvent>, tool: string): Promise<DecisionEvent | undefined> {
  for (let attempt = 0; attempt < 20; attempt++) {
    // Lines with `upstream` are the outcome of an earlier decision, not a decision.
    const found = tail.next().find((line) => line.tool === tool && line.upstream === undefined && typeof line.decision === 'string');
    if (found) return found;
    await new Promise((done) => setTimeout(done, 50));
  }
  return undefined;
}

async function listAllTools(client: Client): Promise<string[]> {
  const names: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor === undefined ? {} : { cursor });
    names.push(...page.tools.map((tool) => tool.name));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return names;
}

function catalogToolNames(path: string): string[] {
  try {
    const catalog = JSON.parse(readFileSync(path, 'utf8')) as { servers?: Record<string, { tools?: Array<{ name: string }> }> };
    return (catalog.servers?.[SERVER]?.tools ?? []).map((tool) => tool.name);
  } catch {
    return [];
  }
}

/** dist/demo-agent.js and out/examples/crm/agent/main.js sit at different depths. */
function packageRoot(): string {
  let folder = __dirname;
  for (;;) {
    try {
      const parsed = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as { name?: string };
      if (parsed.name === 'mcp-policy') return folder;
    } catch {
      // not here: look further up
    }
    const parent = dirname(folder);
    if (parent === folder) throw new Error('cannot find the mcp-policy package folder');
    folder = parent;
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`demo: ${(error as Error).message}\n`);
    process.exitCode = 1;
  },
);
