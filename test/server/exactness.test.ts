import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CodeAction, Diagnostic, Hover, MarkupContent, TextEdit } from 'vscode-languageserver/node';
import { applyTextEdits, fluentCrmWorkspace, LspClient, PULL, PUSH, rangeOf } from './lspClient';

/** Issue 13: one problem per mistake, at the copy that is enforced, and never a clean-looking file that is not. */

function codes(diagnostics: Diagnostic[]): string {
  return diagnostics.map((diagnostic) => `${String(diagnostic.code)} ${JSON.stringify(diagnostic.range)} ${diagnostic.message}`).join('\n');
}

function messageOf(diagnostic: Diagnostic | undefined): string {
  const message = diagnostic?.message;
  return typeof message === 'string' ? message : (message?.value ?? '');
}

function only(diagnostics: Diagnostic[], code: string): Diagnostic[] {
  return diagnostics.filter((diagnostic) => diagnostic.code === code);
}

describe('exact diagnostics over LSP (pull client)', () => {
  let client: LspClient;
  const workspace = fluentCrmWorkspace();
  let counter = 0;
  async function pull(text: string, name = `exact-${counter++}.mcp-policy.json`): Promise<{ uri: string; items: Diagnostic[] }> {
    const uri = workspace.writePolicy(text, name);
    client.open(uri, text);
    return { uri, items: await client.pullDiagnostics(uri) };
  }

  before(async () => (client = await LspClient.start({ capabilities: PULL })));
  after(() => client.stop());

  it('B1: a duplicate key is an error on the ignored copy, and warnings sit on the enforced one', async () => {
    const text = '{\n  "version": "1",\n  "tools": {\n    "fluentcrm_delete_contact": { "action": "deny" },\n    "fluentcrm_delete_contact": {}\n  }\n}\n';
    const { items } = await pull(text);
    const duplicates = only(items, 'duplicate-key');
    assert.equal(duplicates.length, 1, codes(items));
    assert.deepEqual(duplicates[0]!.range, rangeOf(text, '"fluentcrm_delete_contact"', 0));
    assert.equal(duplicates[0]!.severity, 1);
    assert.match(messageOf(duplicates[0]!), /line 5/);
    // The enforced copy allows a destructive tool: the warning is on it, not on the "deny".
    const risky = only(items, 'risky-allow');
    assert.equal(risky.length, 1, codes(items));
    assert.deepEqual(risky[0]!.range, rangeOf(text, '"fluentcrm_delete_contact"', 1));
  });

  it('B1: duplicate top-level keys and nested ones are each reported once', async () => {
    const text = '{ "version": "1", "default": "deny", "default": "allow", "approval": { "timeout": 5, "timeout": 10 } }';
    const { items } = await pull(text);
    const duplicates = only(items, 'duplicate-key');
    assert.deepEqual(duplicates.map((diagnostic) => diagnostic.range), [rangeOf(text, '"default"', 0), rangeOf(text, '"timeout"', 0)], codes(items));
  });

  it('B2: the did-you-mean fix never offers a name that already has its rule', async () => {
    const text = '{ "version": "1", "tools": { "fluentcrm_resume_campaign": { "action": "approve" }, "fluentcrm_resume_campain": {} } }';
    const { uri, items } = await pull(text);
    const unknown = only(items, 'unknown-tool');
    assert.equal(unknown.length, 1, codes(items));
    assert.match(messageOf(unknown[0]!), /did you mean "fluentcrm_resume_campaign"\? It has a rule of its own here already/);
    const actions = await client.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: unknown[0]!.range, context: { diagnostics: unknown } });
    assert.ok(!actions.some((action) => action.title.includes('"fluentcrm_resume_campaign"')), JSON.stringify(actions.map((action) => action.title)));
  });

  it('B2: the did-you-mean for a property skips a key the object already has', async () => {
    const text = '{ "version": "1", "tools": { "fluentcrm_list_*": { "action": "deny", "acton": "allow" } } }';
    const { uri, items } = await pull(text);
    const unknown = only(items, 'unknown-property');
    assert.equal(unknown.length, 1, codes(items));
    assert.match(messageOf(unknown[0]!), /did you mean "action"\? It is set here already/);
    const actions = await client.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: unknown[0]!.range, context: { diagnostics: unknown } });
    assert.deepEqual(actions.map((action) => action.title), []);
  });

  it('B7: "window": 60 and "window": "minute" on one counter agree', async () => {
    const text = '{ "version": "1", "tools": { "fluentcrm_list_*": { "limits": [{ "counter": "c", "window": 60, "max": 5 }] }, "fluentcrm_get_*": { "limits": [{ "counter": "c", "window": "minute", "max": 5 }] } } }';
    const { items } = await pull(text);
    assert.deepEqual(only(items, 'counter-mismatch'), []);
  });

  it('B9: 6,000 nested objects give one error at the level that is too deep, not a RangeError and an empty list', async () => {
    const text = '{ "version": "1", "tools": ' + '{ "a": '.repeat(6000) + '{}' + ' }'.repeat(6000) + ' }';
    const { items } = await pull(text);
    assert.equal(items.length, 1, codes(items));
    assert.equal(items[0]!.severity, 1);
    assert.match(messageOf(items[0]!), /nested more than 128 levels/);
    assert.deepEqual(client.logs.filter((log) => log.type === 1), []);
  });

  it('B4: a catalog whose tools is not an array is a diagnostic on the catalog entry; the rest keeps working', async () => {
    writeFileSync(join(workspace.folder, 'broken.catalog.json'), JSON.stringify({ version: '1', servers: { other: { tools: { nope: true } } } }));
    const text = '{\n  "version": "1",\n  "catalog": ["./broken.catalog.json", "./mcp-policy.catalog.json"],\n  "tools": { "fluentcrm_resume_campain": {} }\n}\n';
    const { uri, items } = await pull(text);
    const problems = only(items, 'catalog-problem');
    assert.equal(problems.length, 1, codes(items));
    assert.deepEqual(problems[0]!.range, rangeOf(text, '"./broken.catalog.json"'));
    assert.match(messageOf(problems[0]!), /servers\.other\.tools must be an array/);
    assert.equal(only(items, 'unknown-tool').length, 1, codes(items));
    const hover = await client.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: rangeOf(text, 'fluentcrm_resume_campain').start });
    assert.ok(hover, 'no hover');
  });

  it('B15: "servers": [] in the catalog beside the policy is a diagnostic, not silence', async () => {
    const folder = fluentCrmWorkspace();
    writeFileSync(folder.catalogPath, JSON.stringify({ version: '1', servers: [] }));
    const text = '{ "version": "1", "tools": { "anything_at_all": {} } }';
    const uri = folder.writePolicy(text);
    client.open(uri, text);
    const items = await client.pullDiagnostics(uri);
    const problems = only(items, 'catalog-problem');
    assert.equal(problems.length, 1, codes(items));
    assert.match(messageOf(problems[0]!), /"servers": an array/);
    assert.deepEqual(problems[0]!.range.start, { line: 0, character: 0 });
    writeFileSync(folder.catalogPath, JSON.stringify({ version: '1', servers: null }));
    client.close(uri);
    await client.connection.sendNotification('mcpPolicy/catalogChanged', {});
    client.open(uri, text);
    assert.match(messageOf(only(await client.pullDiagnostics(uri), "catalog-problem")[0]), /"servers": null/);
  });

  it('B15: a tool whose risk is "high" is classified from its name and the hover says its risk', async () => {
    const folder = fluentCrmWorkspace();
    writeFileSync(folder.catalogPath, JSON.stringify({ version: '1', servers: { crm: { tools: [{ name: 'crm_delete_contact', risk: 'high', inputSchema: { type: 'object' } }] } } }));
    const text = '{ "version": "1", "tools": { "crm_delete_contact": { "action": "deny" } } }';
    const uri = folder.writePolicy(text);
    client.open(uri, text);
    const items = await client.pullDiagnostics(uri);
    assert.match(messageOf(only(items, 'catalog-problem')[0]), /"risk" must be/);
    const hover = await client.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: rangeOf(text, 'crm_delete_contact').start });
    const markdown = (hover?.contents as MarkupContent | undefined)?.value ?? '';
    assert.doesNotMatch(markdown, /undefined/);
    assert.match(markdown, /destructive/);
  });

  it('B19: a top-level exact rule that a servers.S.tools glob decides first is reported', async () => {
    const text = '{ "version": "1", "tools": { "fluentcrm_delete_contact": { "action": "deny" } }, "servers": { "fluentcrm": { "upstream": { "command": "node" }, "tools": { "fluentcrm_*": {} } } } }';
    const { items } = await pull(text);
    const never = only(items, 'rule-never-applies');
    assert.equal(never.length, 1, codes(items));
    assert.deepEqual(never[0]!.range, rangeOf(text, '"fluentcrm_delete_contact"'));
    assert.match(messageOf(never[0]!), /servers\.fluentcrm\.tools\.fluentcrm_\* decides this tool first/);
  });

  it('B20: a server name that is not in the catalog is a warning with a suggestion', async () => {
    const text = '{ "version": "1", "servers": { "fluentcmr": { "upstream": { "command": "node" }, "tools": {} } } }';
    const { items } = await pull(text);
    const unknown = only(items, 'unknown-server');
    assert.equal(unknown.length, 1, codes(items));
    assert.deepEqual(unknown[0]!.range, rangeOf(text, '"fluentcmr"'));
    assert.match(messageOf(unknown[0]!), /did you mean "fluentcrm"/);
  });

  it('B8: an empty rule key is reported once, on the key, not on the whole tools object', async () => {
    const text = '{ "version": "1", "tools": { "fluentcrm_list_*": {}, "": {} } }';
    const { items } = await pull(text);
    assert.equal(items.length, 1, codes(items));
    assert.deepEqual(items[0]!.range, rangeOf(text, '""'));
  });

  it('B14: an invalid limit is one error, without a second "no limit" warning', async () => {
    const text = '{ "version": "1", "tools": { "fluentcrm_delete_contact": { "limits": [{ "window": "minute", "max": 0 }] } } }';
    const { items } = await pull(text);
    assert.equal(items.length, 1, codes(items));
    assert.equal(items[0]!.code, 'schema');
  });

  it('B16: messages name an array entry with its array, and an empty file as empty', async () => {
    const text = '{ "version": "1", "all_tools": { "limits": [{ "max": 3 }] } }';
    const { items } = await pull(text);
    assert.match(messageOf(items[0]), /^"limits\[0\]" is missing the required property "window"/, codes(items));
    const empty = await pull('');
    assert.equal(empty.items.length, 1, codes(empty.items));
    assert.match(messageOf(empty.items[0]!), /the file is empty/);
  });

  it('B11: a file with a syntax error is not formatted, so no tokens are glued together', async () => {
    const text = '{\n  "version": "1"\n  "tools": { "fluentcrm_list_*": {} }\n}\n';
    const { uri } = await pull(text);
    const edits = await client.request<TextEdit[]>('textDocument/formatting', { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } });
    assert.equal(applyTextEdits(text, edits), text);
    const fixed = '{\n"version": "1",\n"tools": { "fluentcrm_list_*": {} }\n}\n';
    const fixedUri = (await pull(fixed)).uri;
    const formatted = applyTextEdits(fixed, await client.request<TextEdit[]>('textDocument/formatting', { textDocument: { uri: fixedUri }, options: { tabSize: 2, insertSpaces: true } }));
    assert.match(formatted, /^\{\n {2}"version": "1",\n {2}"tools": \{/);
  });

  async function applyFix(uri: string, text: string, at: string, title: RegExp): Promise<string> {
    const diagnostics = await client.pullDiagnostics(uri);
    const range = rangeOf(text, at);
    const actions = await client.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range, context: { diagnostics } });
    const action = actions.find((candidate) => title.test(candidate.title));
    assert.ok(action?.edit, `no action ${String(title)} in ${JSON.stringify(actions.map((candidate) => candidate.title))}`);
    client.applyWorkspaceEdit(action.edit);
    return client.text(uri);
  }

  it('B10: a quick fix adds its rule on a line of its own and leaves neighbours and comments alone', async () => {
    const text = '{\n  "version": "1",\n  "tools": {\n    "fluentcrm_list_*": {},   // read freely\n    "fluentcrm_resume_*": { "reason": "campaigns" } // resumes mail\n  }\n}\n';
    const { uri } = await pull(text);
    const after = await applyFix(uri, text, '"fluentcrm_resume_*"', /Add a rule that denies fluentcrm_resume_campaign/);
    assert.equal(
      after,
      '{\n  "version": "1",\n  "tools": {\n    "fluentcrm_list_*": {},   // read freely\n    "fluentcrm_resume_*": { "reason": "campaigns" }, // resumes mail\n    "fluentcrm_resume_campaign": {\n      "action": "deny"\n    }\n  }\n}\n',
    );
  });

  it('B10: Allow This Tool adds its rule without reformatting a one-line tools object', async () => {
    const text = '{ "version": "1", "tools": { "fluentcrm_list_*": {}, "fluentcrm_get_*": { "reason": "reads" } } }';
    const { uri } = await pull(text);
    await client.request('workspace/executeCommand', { command: 'mcpPolicy.allowTool', arguments: [uri, null, 'fluentcrm_delete_tag'] });
    const edit = client.appliedEdits[client.appliedEdits.length - 1];
    assert.ok(edit);
    client.applyWorkspaceEdit(edit);
    assert.equal(client.text(uri), '{ "version": "1", "tools": { "fluentcrm_list_*": {}, "fluentcrm_get_*": { "reason": "reads" }, "fluentcrm_delete_tag": {} } }');
  });

  it('B10: Allow This Tool removes the action and its reason, and keeps the comments of the rule', async () => {
    const text = '{\n  "version": "1",\n  "tools": {\n    "fluentcrm_delete_tag": {\n      "action": "deny", // tags feed the campaigns\n      "reason": "deletes tags",\n      /* keep a budget */\n      "limits": [{ "window": "minute", "max": 2 }]\n    }\n  }\n}\n';
    const { uri } = await pull(text);
    await client.request('workspace/executeCommand', { command: 'mcpPolicy.allowTool', arguments: [uri, null, 'fluentcrm_delete_tag'] });
    const edit = client.appliedEdits[client.appliedEdits.length - 1];
    assert.ok(edit);
    client.applyWorkspaceEdit(edit);
    assert.equal(client.text(uri), '{\n  "version": "1",\n  "tools": {\n    "fluentcrm_delete_tag": {\n      // tags feed the campaigns\n      /* keep a budget */\n      "limits": [{ "window": "minute", "max": 2 }]\n    }\n  }\n}\n');
  });

  it('B18: a glob that allows more than five risky tools gets one fix per kind covering all of them', async () => {
    const text = '{\n  "version": "1",\n  "tools": {\n    "fluentcrm_*": {}\n  }\n}\n';
    const { uri, items } = await pull(text);
    const risky = only(items, 'risky-allow')[0];
    const tools = (risky?.data as { tools?: string[] } | undefined)?.tools ?? [];
    assert.ok(tools.length > 5, JSON.stringify(tools));
    const after = await applyFix(uri, text, '"fluentcrm_*"', new RegExp(`^Add rules that deny all ${tools.length} risky tools$`));
    for (const tool of tools) assert.match(after, new RegExp(`"${tool}": \\{\\n {6}"action": "deny"\\n {4}\\}`));
    const left = await client.pullDiagnostics(uri);
    assert.deepEqual(only(left, 'risky-allow'), [], codes(left));
  });

  it('never logged an error', () => {
    assert.deepEqual(client.logs.filter((log) => log.type === 1), []);
  });
});

describe('exact diagnostics over LSP (push client)', () => {
  it('B9: a push client gets the nesting error published, never an empty list', async () => {
    const workspace = fluentCrmWorkspace();
    const client = await LspClient.start({ capabilities: PUSH });
    try {
      const clean = '{ "version": "1" }';
      const uri = workspace.writePolicy(clean);
      client.open(uri, clean);
      await client.until(() => client.published.get(uri), 5000, 'first diagnostics');
      client.published.delete(uri);
      const deep = '{ "version": "1", "tools": ' + '['.repeat(6000) + ']'.repeat(6000) + ' }';
      client.replace(uri, deep);
      const published = await client.until(() => client.published.get(uri), 5000, 'diagnostics after the edit');
      assert.equal(published.length, 1, codes(published));
      assert.match(messageOf(published[0]!), /nested more than/);
    } finally {
      await client.stop();
    }
  });
});
