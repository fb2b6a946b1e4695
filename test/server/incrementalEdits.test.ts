/**
 * Typing inside a string reuses the previous parse (JsonDocument.afterEdit) and the previous
 * semantic checks: after every edit the diagnostics must equal those of the same text opened
 * afresh.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { CompletionList, Diagnostic } from 'vscode-languageserver/node';
import { mulberry32 } from '../core/helpers';
import { fluentCrmWorkspace, LspClient, positionAt, PULL } from './lspClient';

const POLICY = `{
  "version": "1",
  "default": "deny",
  "tools": {
    "fluentcrm_resume_campaign": { "reason": "sends mail to everyone", "limits": [{ "window": "minute", "max": 2 }] },
    "fluentcrm_resme_campaign": { "reason": "a typo" },
    "fluentcrm_*_campaign": { "reason": "campaign tools" },
    "fluentcrm_list_contacts": { "arguments": { "properties": { "pag": { "description": "page" } } } }
  },
  "hide": ["fluentcrm_delete_contact", "mailchimp_*"]
}
`;

let client: LspClient;
const workspace = fluentCrmWorkspace();

before(async () => {
  client = await LspClient.start({ capabilities: PULL });
});
after(() => client.stop());

/** The example policy, opened and analyzed once. */
async function openPolicy(): Promise<string> {
  const uri = workspace.writePolicy(POLICY);
  client.open(uri, POLICY);
  await client.pullDiagnostics(uri);
  return uri;
}

/** The diagnostics of the same text opened afresh, as the reference for an edited one. */
async function freshDiagnostics(name: string, text: string): Promise<Diagnostic[]> {
  const fresh = workspace.policyUri(`${name}.mcp-policy.json`);
  client.open(fresh, text);
  const diagnostics = await client.pullDiagnostics(fresh);
  client.close(fresh);
  return diagnostics;
}

test('diagnostics after edits inside strings equal those of a fresh open of the same text', async () => {
  const uri = await openPolicy();
  const random = mulberry32(11);
  let withDiagnostics = 0;
  for (let edit = 0; edit < 150; edit++) {
    // Edits anywhere can wreck the rules whose diagnostics are compared: start over now and then.
    if (edit % 25 === 0) client.replace(uri, POLICY);
    const text = client.text(uri);
    // Inside a reason or description (the incremental path), or anywhere (a full parse).
    const strings = [...text.matchAll(/"(?:reason|description)": "([^"]*)"/g)];
    const target = strings[Math.floor(random() * strings.length)];
    const inside = target && random() < 0.9;
    const start = inside ? target.index + target[0].length - 1 - Math.floor(random() * (target[1]!.length + 1)) : Math.floor(random() * text.length);
    const end = Math.min(text.length, start + (random() < 0.3 ? 1 : 0));
    const insert = ['x', 'ab', '', ' ', 'é', 'z'][Math.floor(random() * 6)]!;
    client.edit(uri, start, end, insert);
    const incremental = await client.pullDiagnostics(uri);
    const expected = await freshDiagnostics(`fresh-${edit}`, client.text(uri));
    assert.deepEqual(incremental, expected, `after edit ${edit}: ${JSON.stringify({ start, end, insert })}`);
    if (incremental.some((d) => d.code === 'unknown-tool')) withDiagnostics++;
  }
  assert.ok(withDiagnostics > 100, `only ${withDiagnostics} of 150 steps had an unknown-tool diagnostic to move`);
  assert.equal(client.stderr, '');
});

test('typing a rule name whose quote is not closed yet: after each keystroke, diagnostics and completions equal those of a fresh open', async () => {
  const uri = await openPolicy();
  // At the start of the first rule's line, as someone adds a rule above it: the new quote pairs
  // with the next key's opening quote, and the text stays broken until the key is done.
  const lineStart = POLICY.indexOf('    "fluentcrm_resume_campaign"');
  const typed = '"fluentcrm_res';
  let compared = 0;
  for (const [round, at] of [lineStart, POLICY.indexOf('"hide": [') + '"hide": ['.length].entries()) {
    client.replace(uri, POLICY);
    for (let index = 0; index < typed.length; index++) {
      client.edit(uri, at + index, at + index, typed.charAt(index));
      const text = client.text(uri);
      const position = positionAt(text, at + index + 1);
      const [diagnostics, completion] = await Promise.all([client.pullDiagnostics(uri), client.request<CompletionList | null>('textDocument/completion', { textDocument: { uri }, position })]);
      const fresh = workspace.policyUri(`typed-${round}-${index}.mcp-policy.json`);
      client.open(fresh, text);
      const expected = await client.pullDiagnostics(fresh);
      const expectedCompletion = await client.request<CompletionList | null>('textDocument/completion', { textDocument: { uri: fresh }, position });
      client.close(fresh);
      assert.deepEqual(diagnostics, expected, `round ${round}, after ${JSON.stringify(typed.slice(0, index + 1))}`);
      assert.deepEqual(completion, expectedCompletion, `round ${round}, completion after ${JSON.stringify(typed.slice(0, index + 1))}`);
      if (diagnostics.some((d) => d.code === 'syntax')) compared++;
    }
  }
  assert.ok(compared >= typed.length, `only ${compared} keystrokes left the text broken`);
  assert.equal(client.stderr, '');
});

test('diagnostics after finished edits to one rule and renamed keys equal those of a fresh open', async () => {
  const uri = await openPolicy();
  const random = mulberry32(29);
  const bodies = ['{}', '{ "action": "deny" }', '{ "action": "approve", "reason": "r" }', '{ "limits": [{ "window": "minute", "max": 1 }] }', '{ "action": "allow", "limits": [{ "window": 60, "max": 0 }] }', '{ "actoin": "deny" }', '{ "arguments": { "properties": { "pag": {} } } }'];
  const names = ['fluentcrm_resume_campaign', 'fluentcrm_resme_campaign', 'fluentcrm_list_contacts', 'mailchimp_*', 'fluentcrm_*'];
  for (let edit = 0; edit < 60; edit++) {
    if (edit % 20 === 0) client.replace(uri, POLICY);
    const text = client.text(uri);
    // The rules under "tools": each `"name": { ... }` on its own line.
    const rules = [...text.matchAll(/^ {4}"([^"]*)": (\{.*\}),?$/gm)];
    const rule = rules[Math.floor(random() * rules.length)]!;
    const keyStart = rule.index + 5;
    if (random() < 0.5) {
      const body = rule[2]!;
      const bodyStart = rule.index + rule[0].indexOf(body, rule[1]!.length + 6);
      client.edit(uri, bodyStart, bodyStart + body.length, bodies[Math.floor(random() * bodies.length)]!);
    } else {
      client.edit(uri, keyStart, keyStart + rule[1]!.length, names[Math.floor(random() * names.length)]!);
    }
    const incremental = await client.pullDiagnostics(uri);
    const expected = await freshDiagnostics(`rule-${edit}`, client.text(uri));
    assert.deepEqual(incremental, expected, `after edit ${edit}`);
  }
  assert.equal(client.stderr, '');
});

test('a pull answers for the text it was asked about, even when the analysis was made by another request and the text moved on before the answer', async () => {
  const uri = await openPolicy();
  // Rename a rule (a key: the pull has checks to run, so it lets other requests go first).
  const key = POLICY.indexOf('fluentcrm_resme_campaign');
  client.edit(uri, key, key + 'fluentcrm_resme_campaign'.length, 'fluentcrm_rsme_campaign');
  const asked = client.text(uri);
  const pulled = client.pullDiagnostics(uri);
  // Analyzes this same version, then the text changes as a whole (three lines above everything).
  const at = positionAt(asked, asked.indexOf('fluentcrm_rsme_campaign'));
  const actions = client.request('textDocument/codeAction', { textDocument: { uri }, range: { start: at, end: at }, context: { diagnostics: [] } });
  client.replace(uri, `\n\n\n${asked}`);
  const [diagnostics] = await Promise.all([pulled, actions]);
  const typo = diagnostics.find((d) => d.code === 'unknown-tool' && String(d.message).includes('fluentcrm_rsme_campaign'));
  assert.ok(typo, JSON.stringify(diagnostics));
  const start = asked.indexOf('"fluentcrm_rsme_campaign"');
  assert.deepEqual(typo.range, { start: positionAt(asked, start), end: positionAt(asked, start + '"fluentcrm_rsme_campaign"'.length) });
});
