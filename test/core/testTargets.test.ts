import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzePolicy, loadPolicyFile, type PolicyDiagnostic } from '../../core';
import { fixturePath, fluentCrmCatalog } from './helpers';

function targets(policy: unknown, withCatalog = true): PolicyDiagnostic[] {
  return analyzePolicy(JSON.stringify(policy, null, 2), withCatalog ? { catalog: fluentCrmCatalog() } : {}).diagnostics.filter((diagnostic) => diagnostic.path[0] === 'tests');
}

const base = { version: '1', default: 'deny', servers: { fluentcrm: {} }, tools: { fluentcrm_resume_campaign: {} } };

test('a test calling a tool the catalog lacks is a warning at its tool, with did-you-mean', () => {
  const found = targets({ ...base, tests: [{ name: 'typo', tool: 'fluentcrm_resume_campaing', expect: 'allowed' }, { name: 'fine', tool: 'fluentcrm_resume_campaign', expect: 'allowed' }] });
  assert.equal(found.length, 1);
  assert.equal(found[0]?.code, 'unknown-tool');
  assert.equal(found[0]?.severity, 'warning');
  assert.deepEqual(found[0]?.path, ['tests', 0, 'tool']);
  assert.match(found[0]?.message ?? '', /the test calls unknown tool "fluentcrm_resume_campaing" \(not in server "fluentcrm"\); did you mean "fluentcrm_resume_campaign"\?/);
  assert.deepEqual(found[0]?.data, { suggestion: 'fluentcrm_resume_campaign' });
});

test('steps are checked one by one, and a server neither the policy nor the catalog has is named once with its suggestion', () => {
  const found = targets({
    ...base,
    tests: [
      { name: 'sequence', server: 'fluentcmr', steps: [{ tool: 'fluentcrm_resume_campaign', expect: 'allowed' }, { tool: 'nothing_like_it', expect: 'denied' }] },
      { name: 'own server', steps: [{ server: 'fluentcrm', tool: 'fluentcrm_list_contacts', expect: 'denied' }] },
    ],
  });
  const server = found.filter((diagnostic) => diagnostic.code === 'unknown-server');
  assert.equal(server.length, 1);
  assert.deepEqual(server[0]?.path, ['tests', 0, 'server']);
  assert.match(server[0]?.message ?? '', /server "fluentcmr", which neither the policy nor the tool catalog has; did you mean "fluentcrm"\?/);
  const tools = found.filter((diagnostic) => diagnostic.code === 'unknown-tool');
  assert.deepEqual(tools.map((diagnostic) => diagnostic.path), [['tests', 0, 'steps', 1, 'tool']]);
  assert.equal(tools[0]?.data?.suggestion, undefined);
});

test('without a catalog only servers are checked; the bundled example\'s tests all name real tools', () => {
  assert.deepEqual(targets({ ...base, tests: [{ name: 'x', tool: 'anything', expect: 'denied' }] }, false), []);
  assert.equal(targets({ ...base, tests: [{ name: 'x', server: 'nope', tool: 'anything', expect: 'denied' }] }, false).length, 1);
  const example = loadPolicyFile(fixturePath('..', '..', 'examples', 'crm', 'mcp-policy.json'));
  assert.ok(!example.catalog.isEmpty);
  assert.deepEqual(example.diagnostics.filter((diagnostic) => diagnostic.path[0] === 'tests'), []);
});
