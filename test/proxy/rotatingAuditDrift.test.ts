// The extension's audit log is a rotating one: drift lines reach it as they reach the CLI's.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { RotatingFileAuditSink } from '../../proxy/rotatingAuditLog';
import { tempFolder } from './helpers';

test('a rotating audit log writes drift lines, rotating first when full', (t) => {
  const file = join(tempFolder(t), 'audit.jsonl');
  const sink = new RotatingFileAuditSink(file, { maxBytes: 200, keep: 2 });
  t.after(() => sink.close());
  const drift = { server: 'crm', tool: 'fluentcrm_resume_campaign', kind: 'changed' as const, changes: ['description'], reason: 'its description changed since it was pinned', enforced: true };
  sink.drift(drift);
  sink.drift({ ...drift, tool: 'fluentcrm_create_webhook' });
  const lines = [readFileSync(`${file}.1`, 'utf8'), readFileSync(file, 'utf8')].flatMap((text) => text.split('\n').filter(Boolean)).map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.deepEqual(lines.map((line) => [line['event'], line['tool'], line['enforced']]), [
    ['drift', 'fluentcrm_resume_campaign', true],
    ['drift', 'fluentcrm_create_webhook', true],
  ]);
});
