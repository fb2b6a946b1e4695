/**
 * Policy tests and evaluation in the editor, over real JSON-RPC with the compiled server:
 * failing tests as diagnostics, the Evaluate code lens and its command, inlay hints, counter
 * references and rename, go to definition into the catalog.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { CodeLens, CompletionItem, CompletionList, Diagnostic, Hover, InlayHint, Location, MarkupContent, TextEdit, WorkspaceEdit } from 'vscode-languageserver/node';
import { applyTextEdits, fluentCrmWorkspace, LspClient, positionAt, PULL, PUSH, rangeOf } from './lspClient';

const workspace = fluentCrmWorkspace();

const POLICY = `{
  "version": "1",
  "hide": ["*_delete_*"],
  "tools": {
    "fluentcrm_list_*": {},
    "fluentcrm_create_contact": { "validate_input": false, "limits": [{ "counter": "writes", "window": "minute", "max": 2 }] },
    "fluentcrm_update_contact": { "validate_input": false, "limits": [{ "counter": "writes", "window": "minute", "max": 2 }] },
    "fluentcrm_resume_campaign": { "action": "approve", "validate_input": false, "limits": [{ "counter": "sends", "window": "hour", "max": 1 }] }
  },
  "servers": { "fluentcrm": {} },
  "tests": [
    { "name": "lists are allowed", "tool": "fluentcrm_list_contacts", "expect": "allowed" },
    { "name": "writes share a budget", "steps": [
      { "tool": "fluentcrm_create_contact", "repeat": 2, "expect": "allowed" },
      { "tool": "fluentcrm_update_contact", "expect": "allowed" }
    ] },
    { "name": "sending needs approval", "tool": "fluentcrm_resume_campaign", "approval": "yes", "expect": "approved" }
  ]
}
`;

let sequence = 0;
function nextUri(): string {
  return workspace.writePolicy(POLICY, `t${++sequence}.mcp-policy.json`);
}

const FAILURE = 'test "writes share a budget" fails: expected allowed, got rate_limited (rule tools.fluentcrm_update_contact: counter writes: 2 per minute reached) at fluentcrm_update_contact, step 2 of 2';

describe('policy tests in the editor (push diagnostics)', () => {
  let client: LspClient;
  before(async () => {
    client = await LspClient.start({ capabilities: PUSH });
  });
  after(() => client.stop());

  it('a failing test is a diagnostic at its step\'s expect, and goes away when the test is fixed', async () => {
    const uri = nextUri();
    client.open(uri, POLICY);
    const failing = await client.until(() => client.published.get(uri)?.find((d: Diagnostic) => d.code === 'policy-test-failed'), 10000, 'the test failure');
    assert.equal(failing.message, FAILURE);
    assert.equal(failing.severity, 1);
    const expectAt = POLICY.indexOf('"allowed"', POLICY.indexOf('{ "tool": "fluentcrm_update_contact", "expect"'));
    assert.deepEqual(failing.range.start, positionAt(POLICY, expectAt));
    assert.equal(client.published.get(uri)?.filter((d) => d.code === 'policy-test-failed').length, 1, 'only the failing test');

    const fixed = POLICY.replace('{ "tool": "fluentcrm_update_contact", "expect": "allowed" }', '{ "tool": "fluentcrm_update_contact", "expect": "rate_limited" }');
    client.replace(uri, fixed);
    await client.until(() => (client.published.get(uri) && !client.published.get(uri)!.some((d) => d.code === 'policy-test-failed') ? true : undefined), 10000, 'the failure to clear');

    // A rule edit that breaks a passing test brings a diagnostic at that test.
    client.replace(uri, fixed.replace('"fluentcrm_list_*": {}', '"fluentcrm_list_*": { "action": "deny" }'));
    const broken = await client.until(() => client.published.get(uri)?.find((d) => d.code === 'policy-test-failed'), 10000, 'a new failure');
    assert.match(String(broken.message), /^test "lists are allowed" fails: expected allowed, got denied \(rule tools\.fluentcrm_list_\*/);
    client.close(uri);
  });
});

describe('policy tests in the editor (pull diagnostics)', () => {
  let client: LspClient;
  before(async () => {
    client = await LspClient.start({ capabilities: PULL });
  });
  after(() => client.stop());

  it('the failure is in the pulled diagnostics once the run finished, after a refresh', async () => {
    const uri = nextUri();
    client.open(uri, POLICY);
    const refreshesBefore = client.refreshes;
    const first = await client.pullDiagnostics(uri);
    assert.ok(!first.some((d) => d.code === 'policy-test-failed'), 'not yet run');
    await client.until(() => (client.refreshes > refreshesBefore ? true : undefined), 10000, 'a refresh');
    const pulled = await client.pullDiagnostics(uri);
    assert.equal(pulled.find((d) => d.code === 'policy-test-failed')?.message, FAILURE);
    client.close(uri);
  });
});

describe('Evaluate, inlay hints, counters and definitions', () => {
  let client: LspClient;
  let uri: string;
  before(async () => {
    client = await LspClient.start({ capabilities: PUSH });
    uri = nextUri();
    client.open(uri, POLICY);
  });
  after(() => client.stop());

  it('puts an Evaluate lens on every rule and test; the command returns the decision event', async () => {
    const shown: string[] = [];
    client.connection.onNotification('window/showMessage', (params: { message: string }) => {
      shown.push(params.message);
    });
    const lenses = await client.request<CodeLens[]>('textDocument/codeLens', { textDocument: { uri } });
    assert.equal(lenses.length, 4 + 3);
    assert.ok(lenses.every((lens) => lens.command?.title === 'Evaluate' && lens.command.command === 'mcpPolicy.evaluate'));
    const ruleLens = lenses.find((lens) => JSON.stringify(lens.command?.arguments?.[1]) === JSON.stringify(['tools', 'fluentcrm_list_*']));
    assert.deepEqual(ruleLens?.range.start, rangeOf(POLICY, '"fluentcrm_list_*"').start);

    const glob = await client.request<{ kind: string; call: { tool: string; server: string }; event: { decision: string; rule: string } }>('workspace/executeCommand', { command: 'mcpPolicy.evaluate', arguments: ruleLens!.command!.arguments });
    assert.equal(glob.kind, 'rule');
    assert.equal(glob.call.server, 'fluentcrm');
    assert.match(glob.call.tool, /^fluentcrm_list_/);
    assert.equal(glob.event.decision, 'allowed');
    assert.equal(glob.event.rule, 'tools.fluentcrm_list_*');

    const approve = await client.request<{ event: { decision: string }; note: string }>('workspace/executeCommand', { command: 'mcpPolicy.evaluate', arguments: [uri, ['tools', 'fluentcrm_resume_campaign']] });
    assert.equal(approve.event.decision, 'approved');
    assert.match(approve.note, /assumed to say yes/);

    const failing = await client.request<{ kind: string; name: string; passed: boolean; failures: Array<{ message: string; line: number }>; events: Array<{ decision: string }> }>('workspace/executeCommand', { command: 'mcpPolicy.evaluate', arguments: [uri, ['tests', 1]] });
    assert.equal(failing.kind, 'test');
    assert.equal(failing.passed, false);
    assert.deepEqual(failing.events.map((event) => event.decision), ['allowed', 'allowed', 'rate_limited']);
    assert.equal(failing.failures[0]?.line, rangeOf(POLICY, '{ "tool": "fluentcrm_update_contact"').start.line);
    const passing = await client.request<{ passed: boolean }>('workspace/executeCommand', { command: 'mcpPolicy.evaluate', arguments: [uri, ['tests', 0]] });
    assert.equal(passing.passed, true);
    const bad = await client.request<{ kind: string }>('workspace/executeCommand', { command: 'mcpPolicy.evaluate', arguments: [uri, 'tools'] });
    assert.equal(bad.kind, 'error');
    // Each run is also shown to the person, for editors that drop a command's result.
    await client.until(() => (shown.length >= 5 ? true : undefined), 5000, 'five messages');
    assert.match(shown[0]!, /^Evaluate tools\.fluentcrm_list_\*: fluentcrm_list_\w+ on fluentcrm → allowed \(rule tools\.fluentcrm_list_\*\)/);
    assert.match(shown[2]!, /^Test "writes share a budget" fails: expected allowed, got rate_limited/);
    assert.match(shown[3]!, /^Test "lists are allowed" passes: allowed$/);
    assert.match(shown[4]!, /^Evaluate: mcpPolicy\.evaluate expects/);
  });

  it('inlay hints: a glob shows how many catalog tools it decides and their highest risk; an exact rule its risk', async () => {
    const hints = await client.request<InlayHint[]>('textDocument/inlayHint', { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: positionAt(POLICY, POLICY.length) } });
    const at = (needle: string): InlayHint | undefined => {
      const end = rangeOf(POLICY, needle).end;
      return hints.find((hint) => hint.position.line === end.line && hint.position.character === end.character);
    };
    // Counted from the catalog itself, not from the server's code.
    const lists = workspace.tools.filter((tool) => tool.name.startsWith('fluentcrm_list_'));
    assert.ok(lists.length > 1);
    const highest = ['critical', 'high', 'medium', 'low'].find((severity) => lists.some((tool) => tool.risk.severity === severity));
    assert.equal(at('"fluentcrm_list_*"')?.label, `${lists.length} tools · ${highest} risk`);
    assert.equal(at('"fluentcrm_resume_campaign"')?.label, 'high risk');
    assert.equal(at('"fluentcrm_create_contact"')?.label, 'medium risk');
  });

  it('references and rename of a counter go through every limit that names it, and only those', async () => {
    const position = rangeOf(POLICY, '"writes"', 1).start;
    const inside = { line: position.line, character: position.character + 2 };
    const references = await client.request<Location[]>('textDocument/references', { textDocument: { uri }, position: inside, context: { includeDeclaration: true } });
    assert.deepEqual(references.map((location) => location.range), [rangeOf(POLICY, '"writes"', 0), rangeOf(POLICY, '"writes"', 1)]);
    const prepared = await client.request<{ placeholder: string }>('textDocument/prepareRename', { textDocument: { uri }, position: inside });
    assert.equal(prepared.placeholder, 'writes');
    const edit = await client.request<WorkspaceEdit>('textDocument/rename', { textDocument: { uri }, position: inside, newName: 'contact_writes' });
    const renamed = applyTextEdits(POLICY, edit.changes?.[uri] ?? []);
    assert.equal(renamed, POLICY.replaceAll('"counter": "writes"', '"counter": "contact_writes"'));
    assert.ok(renamed.includes('"counter": "sends"'));
    const notCounter = await client.request<unknown>('textDocument/prepareRename', { textDocument: { uri }, position: rangeOf(POLICY, '"minute"').start });
    assert.equal(notCounter, null);
  });

  it('go to definition from a rule\'s tool name opens its catalog entry; a glob lists every tool it matches', async () => {
    const exact = await client.request<Location[]>('textDocument/definition', { textDocument: { uri }, position: rangeOf(POLICY, '"fluentcrm_resume_campaign"').start });
    assert.equal(exact.length, 1);
    const catalogText = readFileSync(workspace.catalogPath, 'utf8');
    assert.equal(fileURLToPath(exact[0]!.uri), workspace.catalogPath);
    assert.deepEqual(exact[0]!.range, rangeOf(catalogText, '"fluentcrm_resume_campaign"'));
    const glob = await client.request<Location[]>('textDocument/definition', { textDocument: { uri }, position: rangeOf(POLICY, '"fluentcrm_list_*"').start });
    assert.equal(glob.length, workspace.tools.filter((tool) => tool.name.startsWith('fluentcrm_list_')).length);
    const hidden = await client.request<Location[]>('textDocument/definition', { textDocument: { uri }, position: rangeOf(POLICY, '"*_delete_*"').start });
    assert.equal(hidden.length, workspace.tools.filter((tool) => tool.name.includes('_delete_')).length);
  });
});

describe('completion and hover in tests', () => {
  let client: LspClient;
  before(async () => {
    client = await LspClient.start({ capabilities: PUSH });
  });
  after(() => client.stop());

  async function completeAt(textWithCursor: string): Promise<{ labels: string[]; items: CompletionItem[]; text: string }> {
    const offset = textWithCursor.indexOf('|');
    const text = textWithCursor.slice(0, offset) + textWithCursor.slice(offset + 1);
    const uri = workspace.policyUri(`c${++sequence}.mcp-policy.json`);
    client.open(uri, text);
    const result = await client.request<CompletionList | CompletionItem[] | null>('textDocument/completion', { textDocument: { uri }, position: positionAt(text, offset) });
    assert.ok(result, 'completion answered null');
    const items = Array.isArray(result) ? result : result.items;
    return { labels: items.map((entry) => String(entry.label)), items, text };
  }

  it('completes a test\'s keys, its tool from the catalog, its decision, and its arguments from the tool\'s inputSchema', async () => {
    const keys = await completeAt('{ "version": "1", "tests": [{ "name": "x", | }] }');
    for (const key of ['tool', 'arguments', 'expect', 'approval', 'rule', 'reason', 'steps', 'session', 'grant']) assert.ok(keys.labels.includes(key), `${key} in ${keys.labels.join(', ')}`);
    assert.ok(!keys.labels.includes('name'), 'a key already written is not offered');

    const tools = await completeAt('{ "version": "1", "tests": [{ "name": "x", "tool": "fluentcrm_res|" }] }');
    assert.ok(tools.labels.includes('fluentcrm_resume_campaign'));
    const stepTools = await completeAt('{ "version": "1", "tests": [{ "name": "x", "steps": [{ "tool": "|" }] }] }');
    assert.ok(stepTools.labels.includes('fluentcrm_list_contacts'));

    const decisions = await completeAt('{ "version": "1", "tests": [{ "name": "x", "tool": "t", "expect": "|" }] }');
    assert.deepEqual(decisions.labels, ['allowed', 'approved', 'denied', 'rate_limited', 'invalid_arguments', 'rejected']);

    const args = await completeAt('{ "version": "1", "tests": [{ "name": "x", "tool": "fluentcrm_create_contact", "arguments": { | } }] }');
    assert.ok(args.labels.includes('email') && args.labels.includes('first_name'), args.labels.join(', '));
    const email = args.items.find((entry) => entry.label === 'email')!;
    assert.equal(applyTextEdits(args.text, [email.textEdit as TextEdit]), '{ "version": "1", "tests": [{ "name": "x", "tool": "fluentcrm_create_contact", "arguments": { "email": "" } }] }');
    assert.match(String(email.detail), /string \(required\)/);
  });

  it('hovers a test\'s tool like a rule\'s, and its keys with the schema\'s words', async () => {
    const text = '{\n  "version": "1",\n  "tests": [{ "name": "x", "tool": "fluentcrm_resume_campaign", "arguments": { "campaignId": 5 }, "expect": "allowed" }]\n}\n';
    const uri = workspace.policyUri(`h${++sequence}.mcp-policy.json`);
    client.open(uri, text);
    const hoverAt = async (needle: string): Promise<string> => {
      const range = rangeOf(text, needle);
      const result = await client.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: { line: range.start.line, character: range.start.character + 2 } });
      assert.ok(result, `no hover on ${needle}`);
      return (result.contents as MarkupContent).value;
    };
    assert.match(await hoverAt('"fluentcrm_resume_campaign"'), /Risk: \*\*execute\*\*, high/);
    assert.match(await hoverAt('"campaignId"'), /campaignId/);
    assert.match(await hoverAt('"expect"'), /The decision the call must get/);
  });
});
