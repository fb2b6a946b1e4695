import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Policy } from '../../core/model';
import { policyMeaningKey as policyMeaning } from '../../core/planChecks';
import { sanitizePolicy } from '../../core/sanitize';

const policy = (value: unknown): Policy => sanitizePolicy(JSON.parse(typeof value === 'string' ? value : JSON.stringify(value)))!;

describe('policy meaning (the semantic cache key)', () => {
  const base = { version: '1', default: 'deny', tools: { a: { action: 'allow', reason: 'x' }, 'b_*': { action: 'deny' } }, servers: { s: { default: 'allow', tools: { c: { action: 'approve' } } } } };

  it('leaves reasons out and nothing else', () => {
    assert.equal(policyMeaning(policy(base)), policyMeaning(policy({ ...base, tools: { ...base.tools, a: { action: 'allow', reason: 'another reason' } } })));
    const changes: unknown[] = [
      { ...base, default: 'allow' },
      { ...base, tools: { ...base.tools, a: { action: 'deny', reason: 'x' } } },
      { ...base, tools: { 'b_*': { action: 'deny' }, a: { action: 'allow' } } }, // order decides glob ties
      { ...base, tools: { a: { action: 'allow' } } },
      { ...base, servers: { s: { default: 'deny', tools: base.servers.s.tools } } },
      { ...base, servers: { s: { default: 'allow', tools: {} } } },
      { ...base, servers: { t: base.servers.s } },
      // The same rule in another section.
      { ...base, tools: { ...base.tools, c: { action: 'approve' } }, servers: { s: { default: 'allow', tools: {} } } },
      { ...base, servers: { s: { default: 'allow', tools: { c: { action: 'approve' } } }, r: { tools: {} } } },
      { ...base, tools: undefined },
      // JSON.parse makes "__proto__" an own key, as any other.
      '{"version": "1", "default": "deny", "tools": {"__proto__": {"action": "allow"}}}',
      '{"version": "1", "default": "deny", "tools": {}}',
      { ...base, tools: { 'a","b': { action: 'allow' } } },
      // A server may be named anything, even what the top-level section was once kept under.
      { ...base, servers: { '\u0000top': { tools: { a: { action: 'allow' } } } } },
      { ...base, servers: { '\u0000top': { tools: { a: { action: 'deny' } } } } },
      { ...base, servers: { s: { default: 'allow' } } },
    ];
    const keys = new Set([policyMeaning(policy(base)), ...changes.map((change) => policyMeaning(policy(change)))]);
    assert.equal(keys.size, changes.length + 1, 'each change gives a key of its own');
  });
});
