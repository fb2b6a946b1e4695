import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { analyzePolicy, JsonDocument, loadPolicyFile, type PolicyDiagnostic } from '../../core';
import { fixturePath, fluentCrmCatalog } from './helpers';

/** The text a diagnostic's range covers, and where it starts (1-based line:col). */
function at(text: string, diagnostic: PolicyDiagnostic): { covers: string; where: string } {
  const { line, character } = new JsonDocument(text).lines.positionAt(diagnostic.range.offset);
  return { covers: text.slice(diagnostic.range.offset, diagnostic.range.offset + diagnostic.range.length), where: `${line + 1}:${character + 1}` };
}

function analyze(text: string, withCatalog = true) {
  return analyzePolicy(text, withCatalog ? { catalog: fluentCrmCatalog() } : {}).diagnostics;
}

function only(diagnostics: PolicyDiagnostic[], code: string): PolicyDiagnostic {
  const matching = diagnostics.filter((diagnostic) => diagnostic.code === code);
  assert.equal(matching.length, 1, `one ${code} in ${JSON.stringify(diagnostics.map((d) => `${d.code}: ${d.message}`))}`);
  return matching[0]!;
}

test('the spec example policy checks clean, with its catalog', () => {
  const loaded = loadPolicyFile(fixturePath('spec-example', 'mcp-policy.json'));
  assert.deepEqual(loaded.diagnostics.map((d) => d.message), []);
  assert.ok(loaded.compiled);
  assert.equal(loaded.catalog.find('fluentcrm_resume_campaign')?.risk.class, 'execute');
});

test('the bundled example checks clean', () => {
  const loaded = loadPolicyFile(fixturePath('..', '..', 'examples', 'crm', 'mcp-policy.json'));
  assert.deepEqual(loaded.diagnostics.map((d) => d.message), []);
});

test('PolicyLayer documents are valid policies unchanged', () => {
  const policyLayer = '{"version":"1","default":"deny","tools":{"fluentcrm_resume_campaign":{"limits":[{"counter":"fluentcrm_resume_campaign_rate","window":"minute","max":10,"scope":"grant"}]}}}';
  const analysis = analyzePolicy(policyLayer, { catalog: fluentCrmCatalog() });
  assert.deepEqual(analysis.diagnostics.filter((d) => d.severity === 'error'), []);
  assert.ok(analysis.compiled);
});

test('syntax errors point at the place, and JSONC comments and trailing commas are fine', () => {
  const jsonc = '{\n  // comment\n  "version": "1", /* block */\n  "tools": { "a": {}, },\n}\n';
  assert.deepEqual(analyze(jsonc, false), []);
  const broken = '{\n  "version": "1"\n  "default": "deny"\n}';
  const diagnostic = only(analyze(broken, false), 'syntax');
  assert.equal(diagnostic.message, 'comma expected');
  assert.equal(at(broken, diagnostic).where, '3:3');
  const notObject = analyze('[1, 2]', false);
  assert.match(notObject[0]!.message, /must be a JSON object/);
});

test('an unknown property points at its key with a suggestion', () => {
  const text = '{\n  "version": "1",\n  "toolz": {}\n}';
  const diagnostic = only(analyze(text, false), 'unknown-property');
  assert.deepEqual(at(text, diagnostic), { covers: '"toolz"', where: '3:3' });
  assert.match(diagnostic.message, /did you mean "tools"/);
  assert.equal(diagnostic.data?.suggestion, 'tools');
  const inRule = '{"version":"1","tools":{"t":{"acton":"deny"}}}';
  const ruleDiagnostic = only(analyze(inRule, false), 'unknown-property');
  assert.equal(at(inRule, ruleDiagnostic).covers, '"acton"');
  assert.match(ruleDiagnostic.message, /did you mean "action"/);
});

test('a wrong value points at the value', () => {
  const text = '{"version":"1","default":"alow","tools":{"t":{"limits":[{"window":"minit","max":0}],"validate_input":"yes"}},"approval":{"timeout":-1}}';
  const diagnostics = analyze(text, false).filter((d) => d.code === 'schema');
  const covered = diagnostics.map((d) => at(text, d).covers);
  assert.deepEqual(covered, ['"alow"', '"minit"', '0', '"yes"', '-1']);
  assert.match(diagnostics[0]!.message, /"default" must be one of "allow", "deny", "approve"/);
  assert.match(diagnostics[1]!.message, /window must be "second", "minute", "hour", "day" or a whole number/);
  assert.match(diagnostics[2]!.message, /"max" must be 1 or more/);
  assert.match(diagnostics[3]!.message, /"validate_input" must be a boolean/);
  const version = '{"version":2}';
  assert.equal(at(version, only(analyze(version, false), 'schema')).covers, '2');
  const missing = '{"tools":{}}';
  assert.match(only(analyze(missing, false), 'schema').message, /missing the required property "version"/);
  const upstream = '{"version":"1","servers":{"s":{"upstream":{"args":[]}}}}';
  const upstreamDiagnostic = only(analyze(upstream, false), 'schema');
  assert.match(upstreamDiagnostic.message, /"command".*or "url"/);
  assert.equal(at(upstream, upstreamDiagnostic).covers, '{"args":[]}');
});

test('counters of one name that disagree on window or max', () => {
  const text = '{"version":"1","tools":{"a":{"limits":[{"counter":"emails","window":"hour","max":3}]},"b":{"limits":[{"counter":"emails","window":"hour","max":5}]}}}';
  const diagnostic = only(analyze(text, false), 'counter-mismatch');
  assert.equal(diagnostic.severity, 'error');
  assert.equal(at(text, diagnostic).covers, '5');
  assert.match(diagnostic.message, /counter "emails" is 3 per hour at tools\.a\.limits\[0\] but 5 per hour here/);
  // Same name in another scope is another budget.
  const otherScope = '{"version":"1","tools":{"a":{"limits":[{"counter":"c","window":"hour","max":3}]},"b":{"limits":[{"counter":"c","window":"hour","max":5,"scope":"session"}]}}}';
  assert.equal(analyze(otherScope, false).filter((d) => d.code === 'counter-mismatch').length, 0);
});

test('globs tied in specificity are flagged on the later one', () => {
  const text = '{"version":"1","tools":{"crm_*_contact":{},"*_del_contact":{},"x_*":{},"crm_list_*":{}}}';
  const diagnostics = analyze(text, false).filter((d) => d.code === 'glob-tie');
  assert.equal(diagnostics.length, 1);
  assert.equal(at(text, diagnostics[0]!).covers, '"*_del_contact"');
  assert.match(diagnostics[0]!.message, /ties with "crm_\*_contact" \(both have 12 literal characters\).*written first/);
  // Equal specificity that no name can match twice is no tie.
  assert.equal(analyze('{"version":"1","tools":{"a_*":{},"b_*":{}}}', false).filter((d) => d.code === 'glob-tie').length, 0);
});

test('a hide entry and a rule for the same tool', () => {
  const text = '{"version":"1","hide":["*_delete_*"],"tools":{"fluentcrm_delete_contact":{"validate_input":true}}}';
  const diagnostic = only(analyze(text, false), 'hidden-rule');
  assert.equal(at(text, diagnostic).covers, '"fluentcrm_delete_contact"');
});

test('with a catalog: unknown tools with "did you mean", globs that match nothing, unknown arguments', () => {
  const text = JSON.stringify({
    version: '1',
    hide: ['fluentcrm_delet_tag'],
    tools: {
      fluentcrm_resme_campaign: {},
      'mailchimp_*': {},
      fluentcrm_delete_contact: { validate_input: true, arguments: { properties: { subscriberID: { type: 'integer' } }, required: ['subscriberId', 'contactId'] } },
    },
  });
  const diagnostics = analyze(text);
  const unknown = diagnostics.filter((d) => d.code === 'unknown-tool');
  assert.deepEqual(unknown.map((d) => at(text, d).covers), ['"fluentcrm_delet_tag"', '"fluentcrm_resme_campaign"']);
  assert.deepEqual(unknown.map((d) => d.data?.suggestion), ['fluentcrm_delete_tag', 'fluentcrm_resume_campaign']);
  const glob = only(diagnostics, 'glob-matches-nothing');
  assert.equal(at(text, glob).covers, '"mailchimp_*"');
  const args = diagnostics.filter((d) => d.code === 'unknown-argument');
  assert.deepEqual(args.map((d) => at(text, d).covers), ['"subscriberID"', '"contactId"']);
  assert.equal(args[0]!.data?.suggestion, 'subscriberId');
});

test('with a catalog: a glob whose every tool is decided by more specific rules is shadowed', () => {
  const text = JSON.stringify({ version: '1', tools: { 'fluentcrm_list_*': {}, 'fluentcrm_list_c*': { action: 'deny' }, fluentcrm_list_tags: {}, fluentcrm_list_lists: {}, fluentcrm_list_automations: {}, fluentcrm_list_webhooks: {}, fluentcrm_list_smart_links: {}, fluentcrm_list_email_templates: {}, fluentcrm_list_campaigns: {}, fluentcrm_list_contacts: {} } });
  const diagnostics = analyze(text).filter((d) => d.code === 'shadowed-rule');
  assert.deepEqual(diagnostics.map((d) => at(text, d).covers), ['"fluentcrm_list_*"', '"fluentcrm_list_c*"']);
});

test('with a catalog: risky tools allowed with no limit and no argument check are flagged where they are allowed', () => {
  const text = JSON.stringify({
    version: '1',
    default: 'deny',
    tools: {
      'fluentcrm_*_campaign': {},
      fluentcrm_delete_tag: { limits: [{ window: 'minute', max: 1 }] },
      fluentcrm_delete_list: { validate_input: true },
      fluentcrm_delete_contact: { action: 'approve' },
    },
  });
  const diagnostic = only(analyze(text), 'risky-allow');
  assert.equal(at(text, diagnostic).covers, '"fluentcrm_*_campaign"');
  assert.match(diagnostic.message, /2 risky tools: fluentcrm_resume_campaign \(execute, high\), fluentcrm_delete_campaign \(destructive, high\)/);
  assert.deepEqual(diagnostic.data?.tools, ['fluentcrm_resume_campaign', 'fluentcrm_delete_campaign']);
  const byDefault = '{"version":"1","default":"allow","hide":["*_delete_*"]}';
  const defaultDiagnostic = only(analyze(byDefault), 'risky-allow');
  assert.equal(at(byDefault, defaultDiagnostic).covers, '"allow"');
  assert.match(defaultDiagnostic.message, /fluentcrm_resume_campaign \(execute, high\)/);
  assert.doesNotMatch(defaultDiagnostic.message, /delete/);
});

test('an arguments schema that is not a JSON Schema is an error at that value', () => {
  const text = '{"version":"1","tools":{"t":{"arguments":{"type":"nope"}}}}';
  const diagnostic = only(analyze(text, false), 'invalid-arguments-schema');
  assert.equal(at(text, diagnostic).covers, '{"type":"nope"}');
  assert.equal(analyzePolicy(text).compiled, undefined, 'errors leave nothing to enforce');
});

test('a named catalog that is missing is reported at its entry', () => {
  const text = readFileSync(fixturePath('spec-example', 'mcp-policy.json'), 'utf8').replace('"./mcp-policy.catalog.json"', '"./missing.catalog.json"');
  const analysis = analyzePolicy(text, { catalogProblems: [{ file: '/somewhere/missing.catalog.json', message: 'catalog file not found' }] });
  const diagnostic = only(analysis.diagnostics, 'catalog-problem');
  assert.equal(at(text, diagnostic).covers, '"./missing.catalog.json"');
});

test('selectors: a malformed one is an error, one no catalog tool falls under a warning, and a selector is never an unknown tool', () => {
  const text = JSON.stringify({ version: '1', servers: { fluentcrm: { tools: { '@dangerous': {}, '@read:critical': {}, '@execute:high': { action: 'approve' }, '@write:urgent': {} } } } });
  const diagnostics = analyzePolicy(text, { catalog: fluentCrmCatalog() }).diagnostics;
  const byCode = (code: string) => diagnostics.filter((d) => d.code === code).map((d) => d.message);
  assert.deepEqual(byCode('invalid-selector').length, 2);
  assert.match(byCode('invalid-selector').join('\n'), /"@dangerous" is not a risk-class selector/);
  assert.match(byCode('invalid-selector').join('\n'), /minimum severity must be one of low, medium, high, critical/);
  assert.deepEqual(byCode('selector-matches-nothing'), ['"@read:critical" (every read tool of severity critical or above) covers no tool in server "fluentcrm"; tools the server adds later still fall under it']);
  assert.deepEqual(byCode('unknown-tool'), []);
});

test('pinning without pins warns that every tool would be hidden and denied', () => {
  const text = JSON.stringify({ version: '1', pinning: true, servers: { fluentcrm: { pinning: true }, other: { pinning: true } } });
  const warnings = analyzePolicy(text, { catalog: fluentCrmCatalog() }).diagnostics.filter((d) => d.code === 'pinning-without-pins');
  assert.deepEqual(warnings.map((d) => d.path.join('.')), ['servers.other.pinning']);
  assert.equal(analyzePolicy(text).diagnostics.filter((d) => d.code === 'pinning-without-pins').length, 3);
});
