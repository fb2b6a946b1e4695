import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  analyzePolicy,
  catalogFromToolsList,
  catalogRiskSource,
  DIGITS_PATTERN,
  identifierSchema,
  ManualClock,
  PolicyEngine,
  ToolCatalog,
  type CatalogFile,
  type CatalogTool,
  type PolicyDiagnostic,
} from '../../core';
import { fixturePath, fluentCrmToolsList } from './helpers';

const INJECTION = '../../../wp/v2/users/1?x=';

/** The recorded FluentCRM catalog, with some tools' input schemas rewritten. */
function catalogFile(change: (tool: Omit<CatalogTool, 'risk'>) => void = () => undefined): CatalogFile {
  const recorded = fluentCrmToolsList();
  const tools = recorded.result.tools.map((tool) => {
    const copy = structuredClone(tool);
    change(copy);
    return copy;
  });
  return catalogFromToolsList('fluentcrm', tools, recorded.serverInfo);
}

/** The way many servers type ids: a string the server splices into its REST path. */
function stringIds(tool: Omit<CatalogTool, 'risk'>): void {
  const properties = tool.inputSchema.properties as Record<string, { type?: string }> | undefined;
  if (properties?.campaignId) properties.campaignId.type = 'string';
}

const SEED = { version: '1', default: 'deny', tools: { fluentcrm_resume_campaign: { limits: [{ window: 'minute', max: 2 }] } } };

function analyze(policy: unknown, file: CatalogFile): { diagnostics: PolicyDiagnostic[]; unchecked: PolicyDiagnostic[] } {
  const analysis = analyzePolicy(JSON.stringify(policy, null, 2), { catalog: new ToolCatalog([file]) });
  return { diagnostics: analysis.diagnostics, unchecked: analysis.diagnostics.filter((diagnostic) => diagnostic.code === 'unchecked-identifier') };
}

async function decide(policy: unknown, file: CatalogFile, args: Record<string, unknown>): Promise<{ decision: string; reason: string }> {
  const catalog = new ToolCatalog([file]);
  const analysis = analyzePolicy(JSON.stringify(policy), { catalog });
  assert.ok(analysis.compiled, `the policy compiles: ${analysis.diagnostics.map((d) => d.message).join('; ')}`);
  analysis.compiled.setToolRisk(catalogRiskSource(catalog));
  const engine = new PolicyEngine(analysis.compiled, { clock: new ManualClock(), inputSchemas: (server, tool) => catalog.find(tool, server)?.inputSchema });
  const event = await engine.decide({ server: 'fluentcrm', tool: 'fluentcrm_resume_campaign', arguments: args, client: 'test' });
  return { decision: event.decision, reason: event.reason };
}

/** The rule as the quick fix leaves it: a shape for each identifier the warning names. */
function fixed(policy: typeof SEED & { tools: Record<string, Record<string, unknown>> }, diagnostic: PolicyDiagnostic, shape?: string): unknown {
  const identifiers = diagnostic.data?.identifiers as Record<string, string>;
  const properties = Object.fromEntries(Object.entries(identifiers).map(([name, found]) => [name, identifierSchema((shape ?? found) as 'digits')]));
  const rule = policy.tools.fluentcrm_resume_campaign!;
  return { ...policy, tools: { ...policy.tools, fluentcrm_resume_campaign: { ...rule, arguments: { properties } } } };
}

test('the seed policy against the real FluentCRM catalog: campaignId is a number there, so validation by default already refuses the path injection and nothing is flagged', async () => {
  const file = catalogFile();
  assert.deepEqual(analyze(SEED, file).unchecked, []);
  const injected = await decide(SEED, file, { campaignId: INJECTION });
  assert.equal(injected.decision, 'invalid_arguments');
  assert.match(injected.reason, /campaignId must be number/);
});

test('the seed policy with a string campaignId: a limit is not a check, the rule is flagged, and the fixed rule refuses the injection through the engine', async () => {
  const file = catalogFile(stringIds);
  assert.equal((await decide(SEED, file, { campaignId: INJECTION })).decision, 'allowed', 'before the fix the injection gets through');
  const { unchecked } = analyze(SEED, file);
  assert.equal(unchecked.length, 1);
  const warning = unchecked[0]!;
  assert.equal(warning.severity, 'warning');
  assert.deepEqual(warning.path, ['tools', 'fluentcrm_resume_campaign']);
  assert.match(warning.message, /allows fluentcrm_resume_campaign with the identifier "campaignId" unchecked/);
  assert.deepEqual(warning.data?.identifiers, { campaignId: 'token' });
  for (const shape of ['token', 'digits']) {
    const policy = fixed(SEED, warning, shape);
    assert.deepEqual(analyze(policy, file).unchecked, [], `the ${shape} fix silences the warning`);
    const injected = await decide(policy, file, { campaignId: INJECTION });
    assert.equal(injected.decision, 'invalid_arguments', `${shape}: ${injected.reason}`);
    assert.match(injected.reason, /\/campaignId must match pattern/);
    assert.equal((await decide(policy, file, { campaignId: '42' })).decision, 'allowed');
  }
  assert.equal(identifierSchema('digits').pattern, DIGITS_PATTERN);
});

test('with validate_input off nothing checks a number-typed id either; the fix writes an integer schema', async () => {
  const file = catalogFile();
  const policy = { ...SEED, tools: { fluentcrm_resume_campaign: { ...SEED.tools.fluentcrm_resume_campaign, validate_input: false } } };
  assert.equal((await decide(policy, file, { campaignId: INJECTION })).decision, 'allowed');
  const { unchecked } = analyze(policy, file);
  assert.deepEqual(unchecked[0]?.data?.identifiers, { campaignId: 'integer' });
  const repaired = fixed(policy, unchecked[0]!);
  assert.equal((await decide(repaired, file, { campaignId: INJECTION })).decision, 'invalid_arguments');
  assert.equal((await decide(repaired, file, { campaignId: 5 })).decision, 'allowed');
});

test('not flagged: approval, a rule or schema that shapes the id, a write tool, a tool an exact deny takes from the glob', () => {
  const file = catalogFile((tool) => {
    stringIds(tool);
    const properties = tool.inputSchema.properties as Record<string, Record<string, unknown>> | undefined;
    if (tool.name === 'fluentcrm_delete_campaign' && properties?.campaignId) properties.campaignId = { type: 'string', pattern: '^[0-9]+$' };
  });
  const rule = (extra: Record<string, unknown>) => ({ version: '1', default: 'deny', tools: { fluentcrm_resume_campaign: extra } });
  assert.deepEqual(analyze(rule({ action: 'approve' }), file).unchecked, []);
  assert.deepEqual(analyze(rule({ arguments: { properties: { campaignId: { type: 'string', enum: ['1', '2'] } } } }), file).unchecked, []);
  assert.equal(analyze(rule({ arguments: { properties: { campaignId: { type: 'string', maxLength: 12 } } } }), file).unchecked.length, 1, 'a length is no shape: "../1" is short');
  // pause is a write: its string id is not this lint's business.
  assert.deepEqual(analyze({ version: '1', tools: { fluentcrm_pause_campaign: {} } }, catalogFile(stringIds)).unchecked, []);
  // The glob would allow resume with a free id, but the exact rule denies it; delete's id has a pattern of its own.
  assert.deepEqual(analyze({ version: '1', tools: { 'fluentcrm_*_campaign': {}, fluentcrm_resume_campaign: { action: 'deny' } } }, file).unchecked, []);
  const glob = analyze({ version: '1', tools: { 'fluentcrm_*_campaign': { limits: [{ window: 'minute', max: 5 }] } } }, file).unchecked;
  assert.equal(glob.length, 1, 'a glob that allows resume with a free id is flagged');
  assert.deepEqual(glob[0]?.path, ['tools', 'fluentcrm_*_campaign']);
});

test('a path argument of a risky tool gets a relative-path shape that refuses ".." and absolute paths', async () => {
  const file = catalogFromToolsList('files', [{ name: 'delete_file', description: 'Deletes a file', inputSchema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] } }]);
  const policy = { version: '1', tools: { delete_file: {} } };
  const { unchecked } = analyze(policy, file);
  assert.deepEqual(unchecked[0]?.data?.identifiers, { path: 'path' });
  const schema = identifierSchema('path');
  const pattern = new RegExp(String(schema.pattern), 'u');
  assert.ok(pattern.test('notes/today.md'));
  for (const bad of ['../etc/passwd', 'a/../../b', '/etc/passwd', 'a?x=1']) assert.equal(pattern.test(bad), false, bad);
});

test('mcp-policy check warns on the seed policy with a string-typed campaign id (exit 0: warnings only; 1 with --max-warnings 0)', () => {
  const folder = mkdtempSync(join(tmpdir(), 'mcp-policy-identifiers-'));
  writeFileSync(join(folder, 'mcp-policy.catalog.json'), JSON.stringify(catalogFile(stringIds)));
  const policy = join(folder, 'mcp-policy.json');
  writeFileSync(policy, JSON.stringify(SEED, null, 2));
  const cli = fixturePath('..', '..', 'dist', 'cli.js');
  const plain = spawnSync(process.execPath, [cli, 'check', policy], { encoding: 'utf8' });
  assert.equal(plain.status, 0, plain.stderr);
  assert.match(plain.stdout, /mcp-policy\.json:5:5: warning: allows fluentcrm_resume_campaign with the identifier "campaignId" unchecked.*\[unchecked-identifier\]/);
  const strict = spawnSync(process.execPath, [cli, 'check', '--max-warnings', '0', policy], { encoding: 'utf8' });
  assert.equal(strict.status, 1);
});

test('an arguments entry the policy schema rejects is one error, without a second "unchecked id" warning', () => {
  const policy = { ...SEED, tools: { fluentcrm_resume_campaign: { arguments: 'campaignId: digits only' } } };
  const { diagnostics, unchecked } = analyze(policy, catalogFile(stringIds));
  assert.deepEqual(unchecked, [], diagnostics.map((d) => `${d.code}: ${d.message}`).join('\n'));
  assert.ok(diagnostics.some((d) => d.code === 'schema' && d.severity === 'error'), 'the schema error itself is reported');
});

test('an argument schema written at the top of "arguments" instead of under "properties" is flagged: it checks nothing', () => {
  const misplaced = { ...SEED, tools: { fluentcrm_resume_campaign: { arguments: { campaignId: { type: 'string', pattern: '^[0-9]+$' } } } } };
  const { diagnostics, unchecked } = analyze(misplaced, catalogFile(stringIds));
  const keyword = diagnostics.filter((d) => d.code === 'arguments-unknown-keyword');
  assert.deepEqual(keyword.map((d) => d.path), [['tools', 'fluentcrm_resume_campaign', 'arguments', 'campaignId']]);
  assert.match(keyword[0]!.message, /"campaignId" is not a JSON Schema keyword, so it checks nothing: the schema of an argument goes under "properties"/);
  assert.equal(unchecked.length, 1, 'and the id is still unchecked, as the engine would let any string through');

  const placed = { ...SEED, tools: { fluentcrm_resume_campaign: { arguments: { type: 'object', properties: { campaignId: { type: 'string', pattern: '^[0-9]+$' } }, 'x-note': 'ids are digits' } } } };
  const clean = analyze(placed, catalogFile(stringIds));
  assert.deepEqual(clean.diagnostics.filter((d) => d.code === 'arguments-unknown-keyword' || d.code === 'unchecked-identifier'), []);
});
