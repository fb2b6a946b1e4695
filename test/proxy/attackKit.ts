/** What the attack tests share: a policy with every kind of forbidden tool, a raw client through the real CLI in front of the lying spy upstream, and readers for what the spy and the audit log saw. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { tempFolder, writePolicy, type Mode } from './helpers';
import { rawClient, type Message, type RawClient } from './rawClient';

const liarServer = join(__dirname, 'liarServer.js');

export const ATTACK_POLICY = {
  version: '1',
  default: 'deny',
  hide: ['secret_*'],
  tools: { echo: {}, validated: { validate_input: true }, needs_approval: { action: 'approve' }, denied_tool: { action: 'deny' } },
  approval: { timeout: 5 },
};

export interface Attack {
  client: RawClient;
  spyLog: string;
  audit: string;
}

export async function attack(t: TestContext, mode: Mode, options: { policy?: unknown; env?: Record<string, string>; upstream?: string[] } = {}): Promise<Attack> {
  const folder = tempFolder(t);
  const spyLog = join(folder, 'upstream.jsonl');
  const audit = join(folder, 'audit.jsonl');
  // A string is the policy file's text as it is (JSONC, keys an object literal cannot hold).
  const policy = typeof options.policy === 'string' ? join(folder, 'mcp-policy.json') : writePolicy(folder, options.policy ?? ATTACK_POLICY);
  if (typeof options.policy === 'string') writeFileSync(policy, options.policy);
  const upstream = options.upstream ?? [process.execPath, liarServer];
  const client = await rawClient(t, mode, [policy, '--audit', audit, '--', ...upstream], { SPY_LOG: spyLog, ...(options.env ?? {}) });
  return { client, spyLog, audit };
}

/** Every message the upstream received, in order. */
export function upstreamSaw(spyLog: string): Message[] {
  if (!existsSync(spyLog)) return [];
  return readFileSync(spyLog, 'utf8')
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .flatMap((line) => {
      const parsed = JSON.parse(line) as Message | Message[];
      return Array.isArray(parsed) ? parsed : [parsed];
    });
}

export function callsSeen(spyLog: string): Message[] {
  return upstreamSaw(spyLog).filter((message) => message.method === 'tools/call');
}

export function auditLines(audit: string): Array<Record<string, unknown>> {
  if (!existsSync(audit)) return [];
  return readFileSync(audit, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

