/** Redaction: the defaults always apply, audit.redact adds, audit.unredact turns off a default by name. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_REDACT, ManualClock, PolicyEngine, redactGlobs, type Policy } from '../../core';
import { compile, fixturePath } from './helpers';

const secrets = {
  password: 'hunter2',
  db_password: 'hunter2',
  apiToken: 'hunter2',
  client_secret: 'hunter2',
  stripe_api_key: 'hunter2',
  APIKEY: 'hunter2',
  Authorization: 'hunter2',
  set_cookie: 'hunter2',
  credentials: { user: 'u', pass: 'hunter2' },
  ssh_private_key: 'hunter2',
};

async function loggedArguments(audit: Policy['audit'], args: Record<string, unknown>): Promise<unknown> {
  const engine = new PolicyEngine(compile({ default: 'allow', ...(audit ? { audit } : {}) }), { clock: new ManualClock() });
  const event = await engine.decide({ server: 's', tool: 't', arguments: args, session: 'x', grant: 'x' });
  return event.arguments;
}

test('every default glob is redacted with no audit section, with audit.redact set, and with an empty one', async () => {
  for (const audit of [undefined, { redact: ['email'] }, { redact: [] }, {}]) {
    const logged = await loggedArguments(audit, { ...secrets, page: 2, email: 'a@b.c' });
    assert.doesNotMatch(JSON.stringify(logged), /hunter2/, `audit ${JSON.stringify(audit)}`);
    assert.equal((logged as { page: number }).page, 2);
  }
  assert.equal((await loggedArguments({ redact: ['email'] }, { email: 'a@b.c' }) as { email: string }).email, '[redacted]');
});

test('audit.unredact turns off exactly the defaults it names; redact naming one too keeps it', async () => {
  const logged = (await loggedArguments({ unredact: ['*token*'] }, { apiToken: 'tok-1', password: 'hunter2' })) as Record<string, string>;
  assert.deepEqual(logged, { apiToken: 'tok-1', password: '[redacted]' });
  assert.deepEqual(redactGlobs({ unredact: ['*token*'], redact: ['*token*', 'email'] }), [...DEFAULT_REDACT.filter((glob) => glob !== '*token*'), '*token*', 'email']);
  assert.deepEqual(redactGlobs(undefined), [...DEFAULT_REDACT]);
});

test('the schema lists the same defaults the engine applies, and only they can be unredacted', () => {
  const schema = JSON.parse(readFileSync(fixturePath('..', '..', 'schemas', 'policy.schema.json'), 'utf8')) as {
    properties: { audit: { properties: { unredact: { items: { enum: string[] } }; redact: { description: string } } } };
  };
  assert.deepEqual(schema.properties.audit.properties.unredact.items.enum, [...DEFAULT_REDACT]);
  for (const glob of DEFAULT_REDACT) assert.ok(schema.properties.audit.properties.redact.description.includes(glob), glob);
});

test('check: an unredact entry that is not a default is an error naming its place', () => {
  const folder = mkdtempSync(join(tmpdir(), 'mcp-policy-redact-'));
  const path = join(folder, 'mcp-policy.json');
  writeFileSync(path, JSON.stringify({ version: '1', audit: { unredact: ['*tokens*'] } }, null, 2));
  const result = spawnSync(process.execPath, [fixturePath('..', '..', 'dist', 'cli.js'), 'check', path], { encoding: 'utf8' });
  assert.equal(result.status, 1, result.stdout + result.stderr);
  assert.match(result.stdout, /mcp-policy\.json:\d+:\d+: error: .*\*password\*/);
});
