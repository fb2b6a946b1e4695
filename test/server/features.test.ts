import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { CodeAction, CompletionItem, CompletionList, Diagnostic, DocumentSymbol, Hover, MarkupContent, TextEdit } from 'vscode-languageserver/node';
import { LANGUAGE_SERVER_NODE_FLAGS } from '../../core/serverProcess';
import { applyTextEdits, cliBuilt, fluentCrmWorkspace, LspClient, positionAt, PULL, PUSH, rangeOf } from './lspClient';

const workspace = fluentCrmWorkspace();
let counter = 0;

/** Opens `text` with the cursor at `|` (removed) and asks for completions there. */
async function completeAt(client: LspClient, textWithCursor: string): Promise<{ items: CompletionItem[]; text: string; uri: string }> {
  const offset = textWithCursor.indexOf('|');
  const text = textWithCursor.slice(0, offset) + textWithCursor.slice(offset + 1);
  const uri = workspace.policyUri(`completion-${counter++}.mcp-policy.json`);
  client.open(uri, text);
  const result = await client.request<CompletionList | CompletionItem[] | null>('textDocument/completion', { textDocument: { uri }, position: positionAt(text, offset) });
  assert.ok(result, 'completion answered null');
  return { items: Array.isArray(result) ? result : result.items, text, uri };
}

function item(items: CompletionItem[], label: string): CompletionItem {
  const found = items.find((candidate) => candidate.label === label);
  assert.ok(found, `no completion "${label}" in ${items.map((candidate) => candidate.label).join(', ')}`);
  return found;
}

function applyItem(text: string, completion: CompletionItem): string {
  return applyTextEdits(text, [completion.textEdit as TextEdit, ...(completion.additionalTextEdits ?? [])]);
}

describe('completion over LSP', () => {
  let client: LspClient;
  before(async () => (client = await LspClient.start({ capabilities: PUSH })));
  after(() => client.stop());

  it('offers fluentcrm_resume_campaign for fluentcrm_res| with its risk, and inserts a rule', async () => {
    const { items, text } = await completeAt(client, '{\n  "version": "1",\n  "tools": {\n    "fluentcrm_res|\n  }\n}\n');
    const resume = item(items, 'fluentcrm_resume_campaign');
    assert.match(resume.detail ?? '', /^execute · high/);
    assert.match((resume.documentation as MarkupContent).value, /Risk: \*\*execute\*\*/);
    assert.ok(!items.some((candidate) => candidate.label === 'fluentcrm_list_contacts' && false));
    assert.equal(applyItem(text, resume), '{\n  "version": "1",\n  "tools": {\n    "fluentcrm_resume_campaign": {}\n  }\n}\n');
  });

  it('offers risk-class selectors as rule keys, with how many catalog tools each covers', async () => {
    const { items, text } = await completeAt(client, '{ "version": "1", "servers": { "fluentcrm": { "tools": { "@|" } } } }');
    const destructive = item(items, '@destructive');
    assert.equal(destructive.detail, 'risk-class selector — 5 tools');
    assert.match(String((destructive.documentation as { value?: string } | undefined)?.value ?? ''), /fluentcrm_delete_contact/);
    assert.equal(item(items, '@execute').detail, 'risk-class selector — 2 tools');
    assert.equal(applyItem(text, destructive), '{ "version": "1", "servers": { "fluentcrm": { "tools": { "@destructive": {} } } } }');
  });

  it('completes a tool name typed without quotes, before another rule (adds the comma)', async () => {
    const { items, text } = await completeAt(client, '{ "version": "1", "tools": { fluentcrm_res| "fluentcrm_list_*": {} } }');
    const resume = item(items, 'fluentcrm_resume_campaign');
    assert.equal(applyItem(text, resume), '{ "version": "1", "tools": { "fluentcrm_resume_campaign": {}, "fluentcrm_list_*": {} } }');
  });

  it('completes tool names in hide and in a server section (that server\'s tools)', async () => {
    const hide = await completeAt(client, '{ "version": "1", "hide": ["fluentcrm_res|');
    assert.equal(applyItem(hide.text, item(hide.items, 'fluentcrm_resume_campaign')), '{ "version": "1", "hide": ["fluentcrm_resume_campaign"');
    const server = await completeAt(client, '{ "version": "1", "servers": { "fluentcrm": { "tools": { "|" } } } }');
    assert.match(item(server.items, 'fluentcrm_delete_tag').detail ?? '', /destructive · high — fluentcrm/);
    const serverNames = await completeAt(client, '{ "version": "1", "servers": { "|" } }');
    item(serverNames.items, 'fluentcrm');
  });

  it('completes argument names and types from the tool\'s inputSchema', async () => {
    const { items, text } = await completeAt(client, '{ "version": "1", "tools": { "fluentcrm_resume_campaign": { "arguments": { "properties": { "|" } } } } }');
    const campaignId = item(items, 'campaignId');
    assert.equal(campaignId.detail, 'number (required)');
    assert.match(applyItem(text, campaignId), /"campaignId": \{ "type": "number" \}/);
    const required = await completeAt(client, '{ "version": "1", "tools": { "fluentcrm_update_contact": { "arguments": { "required": ["|"] } } } }');
    assert.deepEqual(required.items.map((candidate) => candidate.label).sort(), ['first_name', 'last_name', 'phone', 'subscriberId']);
  });

  it('completes keys valid at the cursor, without the ones already written, even with a comma missing', async () => {
    const rule = await completeAt(client, '{ "version": "1", "tools": { "fluentcrm_list_*": { "action": "allow" "|" } } }');
    assert.deepEqual(rule.items.map((candidate) => candidate.label).sort(), ['arguments', 'limits', 'reason', 'validate_input']);
    assert.equal(applyItem(rule.text, item(rule.items, 'reason')), '{ "version": "1", "tools": { "fluentcrm_list_*": { "action": "allow", "reason": "" } } }');
    const unquoted = await completeAt(client, '{ "version": "1", "tools": { "fluentcrm_list_*": { "action": "allow"\n  val| } } }');
    assert.equal(applyItem(unquoted.text, item(unquoted.items, 'validate_input')), '{ "version": "1", "tools": { "fluentcrm_list_*": { "action": "allow",\n  "validate_input": true } } }');
    const top = await completeAt(client, '{ "version": "1", |');
    for (const key of ['default', 'hide', 'all_tools', 'tools', 'servers', 'catalog', 'audit', 'approval']) item(top.items, key);
    assert.ok(!top.items.some((candidate) => candidate.label === 'version'));
    assert.equal(applyItem(top.text, item(top.items, 'default')), '{ "version": "1", "default": "deny"');
  });

  it('completes enum values: actions, windows, scopes', async () => {
    const action = await completeAt(client, '{ "version": "1", "tools": { "a": { "action": "|" } } }');
    assert.deepEqual(action.items.map((candidate) => candidate.label), ['allow', 'deny', 'approve']);
    const window = await completeAt(client, '{ "version": "1", "all_tools": { "limits": [ { "window": | } ] } }');
    assert.deepEqual(window.items.map((candidate) => candidate.label), ['second', 'minute', 'hour', 'day']);
    assert.equal(applyItem(window.text, item(window.items, 'minute')), '{ "version": "1", "all_tools": { "limits": [ { "window": "minute" } ] } }');
    const scope = await completeAt(client, '{ "version": "1", "all_tools": { "limits": [ { "scope": "g|" } ] } }');
    assert.deepEqual(scope.items.map((candidate) => candidate.label), ['session', 'grant', 'global']);
  });

  it('completes counter names already used in the file', async () => {
    const { items } = await completeAt(client, '{ "version": "1", "all_tools": { "limits": [ { "counter": "emails", "window": "minute", "max": 5 } ] }, "tools": { "a": { "limits": [ { "counter": "|" } ] } } }');
    assert.deepEqual(items.map((candidate) => candidate.label), ['emails']);
  });

  it('offers snippets for a rule, a limit and a server to clients that take snippets', async () => {
    const snippets = await LspClient.start({ capabilities: PULL });
    try {
      const rule = await completeAt(snippets, '{ "version": "1", "tools": { | } }');
      assert.match(item(rule.items, 'new rule').textEdit?.newText ?? '', /\$\{2\|allow,deny,approve\|\}/);
      // Once a name is being typed, tool names lead: no snippet to outrank them.
      const typing = await completeAt(snippets, '{ "version": "1", "tools": { "fluentcrm_res| } }');
      assert.ok(typing.items.some((candidate) => candidate.label === 'fluentcrm_resume_campaign'));
      assert.ok(!typing.items.some((candidate) => candidate.label === 'new rule'));
      const limit = await completeAt(snippets, '{ "version": "1", "all_tools": { "limits": [ | ] } }');
      assert.match(item(limit.items, 'limit').textEdit?.newText ?? '', /"max": \$\{2:10\}/);
      const server = await completeAt(snippets, '{ "version": "1", "servers": { | } }');
      assert.match(item(server.items, 'new server').textEdit?.newText ?? '', /"upstream"/);
      const schema = await completeAt(snippets, '{ | }');
      assert.match(item(schema.items, '$schema').textEdit?.newText ?? '', /^"\\\$schema": "\$1"/);
    } finally {
      await snippets.stop();
    }
  });
});

const HOVER_POLICY = `{
  "version": "1",
  "default": "deny",
  "hide": ["fluentcrm_delete_*"],
  "tools": {
    "fluentcrm_list_*": {},
    "fluentcrm_resume_campaign": { "action": "approve", "arguments": { "properties": { "campaignId": {} } } }
  }
}
`;

describe('hover over LSP', () => {
  let client: LspClient;
  const uri = workspace.writePolicy(HOVER_POLICY, 'hover.mcp-policy.json');
  before(async () => {
    client = await LspClient.start({ capabilities: PUSH });
    client.open(uri, HOVER_POLICY);
  });
  after(() => client.stop());

  async function hoverOn(needle: string, occurrence = 0): Promise<string> {
    const range = rangeOf(HOVER_POLICY, needle, occurrence);
    const result = await client.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: { line: range.start.line, character: range.start.character + 2 } });
    assert.ok(result, `no hover on ${needle}`);
    return (result.contents as MarkupContent).value;
  }

  it('explains a tool: description, risk and why, annotations, input schema', async () => {
    const text = await hoverOn('"fluentcrm_resume_campaign"');
    assert.match(text, /\*\*fluentcrm_resume_campaign\*\* \(server `fluentcrm`\)/);
    assert.match(text, /Risk: \*\*execute\*\*, high — name has the verb "resume"/);
    assert.match(text, /Annotations: none/);
    assert.match(text, /- `campaignId`: number \(required\)/);
  });

  it('explains a keyword from the schema', async () => {
    assert.match(await hoverOn('"default"'), /What happens to a call of a tool that no rule matches/);
    assert.match(await hoverOn('"approve"'), /allow: the call goes upstream/);
  });

  it('lists the catalog tools a glob matches, in rules and in hide', async () => {
    const list = await hoverOn('"fluentcrm_list_*"');
    assert.match(list, /matches 8 tools/);
    assert.match(list, /- `fluentcrm_list_contacts` — read · low/);
    assert.match(await hoverOn('"fluentcrm_delete_*"'), /- `fluentcrm_delete_campaign` — destructive · high/);
  });

  it('explains an argument name from the inputSchema', async () => {
    assert.match(await hoverOn('"campaignId"'), /Argument of \*\*fluentcrm_resume_campaign\*\*/);
  });
});

/** Asks for the code actions at `needle`, applies the one titled `title`, and returns the re-pulled diagnostics. */
async function applyAction(client: LspClient, uri: string, needle: string, title: RegExp): Promise<{ text: string; diagnostics: Diagnostic[] }> {
  const text = client.text(uri);
  const range = rangeOf(text, needle);
  const actions = await client.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range, context: { diagnostics: [] } });
  const action = actions.find((candidate) => title.test(candidate.title));
  assert.ok(action?.edit, `no action ${title} in ${actions.map((candidate) => candidate.title).join(' | ')}`);
  client.applyWorkspaceEdit(action.edit);
  return { text: client.text(uri), diagnostics: await client.pullDiagnostics(uri) };
}

const ACTION_POLICY = `{
  "version": "1",
  "default": "deny",
  "tools": {
    "fluentcrm_list_*": {},
    "fluentcrm_resume_campaign": {},
    "fluentcrm_pause_campain": {
      "action": "approve",
      "acton": "deny"
    }
  }
}
`;

describe('code actions over LSP', () => {
  let client: LspClient;
  before(async () => (client = await LspClient.start({ capabilities: { ...PULL, workspace: { ...PULL.workspace, workspaceEdit: { documentChanges: true } } } })));
  after(() => client.stop());

  function fresh(text = ACTION_POLICY): string {
    const uri = workspace.writePolicy(text, `actions-${counter++}.mcp-policy.json`);
    client.open(uri, text);
    return uri;
  }
  const codes = (diagnostics: Diagnostic[]): string[] => diagnostics.map((diagnostic) => String(diagnostic.code));

  it('replaces an unknown tool and an unknown property with the suggestion', async () => {
    const uri = fresh();
    assert.ok(codes(await client.pullDiagnostics(uri)).includes('unknown-tool'));
    const tool = await applyAction(client, uri, '"fluentcrm_pause_campain"', /Change to "fluentcrm_pause_campaign"/);
    assert.ok(!codes(tool.diagnostics).includes('unknown-tool'));
    // "action" is set in that rule already: renaming "acton" would write a duplicate key (issue 13, B2).
    const after = await client.pullDiagnostics(uri);
    const acton = after.find((diagnostic) => diagnostic.code === 'unknown-property');
    assert.ok(acton);
    const actions = await client.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: acton.range, context: { diagnostics: [acton] } });
    assert.ok(!actions.some((action) => /Change to "action"/.test(action.title)), JSON.stringify(actions.map((action) => action.title)));
  });

  for (const [title, expected] of [
    [/Add a limit of 10 calls per minute to fluentcrm_resume_campaign/, /"fluentcrm_resume_campaign": \{\n {6}"limits": \[\n {8}\{\n {10}"window": "minute",\n {10}"max": 10,\n {10}"scope": "grant"\n {8}\}\n {6}\]\n {4}\}/],
    [/Add "validate_input": true to fluentcrm_resume_campaign/, /"fluentcrm_resume_campaign": \{\n {6}"validate_input": true\n {4}\}/],
    [/Ask for approval before each call of fluentcrm_resume_campaign/, /"fluentcrm_resume_campaign": \{\n {6}"action": "approve"\n {4}\}/],
    [/Deny fluentcrm_resume_campaign/, /"fluentcrm_resume_campaign": \{\n {6}"action": "deny"\n {4}\}/],
  ] as const) {
    it(`fixes a risky rule: ${title.source}`, async () => {
      const uri = fresh();
      assert.ok(codes(await client.pullDiagnostics(uri)).includes('risky-allow'));
      const { text, diagnostics } = await applyAction(client, uri, '"fluentcrm_resume_campaign"', title);
      assert.match(text, expected);
      assert.ok(!codes(diagnostics).includes('risky-allow'), JSON.stringify(diagnostics));
      assert.ok(!diagnostics.some((diagnostic) => diagnostic.severity === 1 && diagnostic.code !== 'unknown-property'), JSON.stringify(diagnostics));
    });
  }

  it('adds an exact rule for a risky tool that a glob allows', async () => {
    const uri = fresh('{\n\t"version": "1",\n\t"tools": {\n\t\t"fluentcrm_resume_*": {}\n\t}\n}\n');
    const { text, diagnostics } = await applyAction(client, uri, '"fluentcrm_resume_*"', /Add a rule for fluentcrm_resume_campaign with a limit/);
    assert.match(text, /\t\t"fluentcrm_resume_\*": \{\},\n\t\t"fluentcrm_resume_campaign": \{\n\t\t\t"limits": \[/);
    assert.ok(!codes(diagnostics).includes('risky-allow'), JSON.stringify(diagnostics));
  });

  it('adds an exact rule for a risky tool that the default allows', async () => {
    // fluentcrm_create_webhook is risky too (execute: it makes the server send data out): hidden here to keep one tool.
    const uri = fresh('{\n  "version": "1",\n  "default": "allow",\n  "hide": ["fluentcrm_delete_*", "fluentcrm_create_webhook"]\n}\n');
    const before = await client.pullDiagnostics(uri);
    const risky = before.find((diagnostic) => diagnostic.code === 'risky-allow');
    assert.deepEqual((risky?.data as { tools: string[] }).tools, ['fluentcrm_resume_campaign']);
    const { text, diagnostics } = await applyAction(client, uri, '"allow"', /Add a rule that asks for approval before each call of fluentcrm_resume_campaign/);
    assert.match(text, /"tools": \{\n {4}"fluentcrm_resume_campaign": \{\n {6}"action": "approve"\n {4}\}\n {2}\}/);
    assert.ok(!codes(diagnostics).includes('risky-allow'), JSON.stringify(diagnostics));
  });

  it('mcpPolicy.allowTool adds or relaxes an allow rule through workspace/applyEdit', async () => {
    const uri = fresh('{\n  "version": "1",\n  "tools": { "fluentcrm_delete_tag": { "action": "deny", "reason": "no" } }\n}\n');
    const relaxed = await client.request<{ applied: boolean }>('workspace/executeCommand', { command: 'mcpPolicy.allowTool', arguments: [uri, null, 'fluentcrm_delete_tag'] });
    assert.equal(relaxed.applied, true);
    client.applyWorkspaceEdit(client.appliedEdits.at(-1)!);
    // The deny's reason goes with it: it would explain allowed calls otherwise.
    assert.equal(client.text(uri), '{\n  "version": "1",\n  "tools": { "fluentcrm_delete_tag": {} }\n}\n');
    const kept = fresh('{\n  "version": "1",\n  "tools": {\n    "fluentcrm_delete_list": {\n      "action": "approve",\n      "reason": "asks first",\n      "limits": [{ "window": "hour", "max": 1 }]\n    }\n  }\n}\n');
    await client.request('workspace/executeCommand', { command: 'mcpPolicy.allowTool', arguments: [kept, null, 'fluentcrm_delete_list'] });
    client.applyWorkspaceEdit(client.appliedEdits.at(-1)!);
    assert.equal(client.text(kept), '{\n  "version": "1",\n  "tools": {\n    "fluentcrm_delete_list": {\n      "limits": [{ "window": "hour", "max": 1 }]\n    }\n  }\n}\n', 'limits and the layout stay');
    await client.request('workspace/executeCommand', { command: 'mcpPolicy.allowTool', arguments: [uri, 'fluentcrm', 'fluentcrm_list_tags'] });
    client.applyWorkspaceEdit(client.appliedEdits.at(-1)!);
    assert.match(client.text(uri), /"servers": \{\n {4}"fluentcrm": \{\n {6}"tools": \{\n {8}"fluentcrm_list_tags": \{\}/);
    assert.ok(!(await client.pullDiagnostics(uri)).some((diagnostic) => diagnostic.severity === 1));
  });
});

describe('symbols and formatting over LSP', () => {
  let client: LspClient;
  before(async () => (client = await LspClient.start({ capabilities: PUSH })));
  after(() => client.stop());

  it('outlines rules, servers and limits', async () => {
    const text = '{ "version": "1", "tools": { "fluentcrm_resume_campaign": { "action": "approve", "limits": [{ "window": "minute", "max": 10 }] } }, "servers": { "fluentcrm": { "tools": { "fluentcrm_list_*": {} } } } }';
    const uri = workspace.policyUri('symbols.mcp-policy.json');
    client.open(uri, text);
    const symbols = await client.request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri } });
    const tools = symbols.find((symbol) => symbol.name === 'tools');
    const rule = tools?.children?.[0];
    assert.equal(rule?.name, 'fluentcrm_resume_campaign');
    assert.equal(rule?.detail, 'approve');
    assert.equal(rule?.children?.[0]?.name, '10 per minute');
    const server = symbols.find((symbol) => symbol.name === 'servers')?.children?.[0];
    assert.equal(server?.name, 'fluentcrm');
    assert.equal(server?.children?.[0]?.children?.[0]?.name, 'fluentcrm_list_*');
  });

  it('formats with the client\'s tab settings and keeps comments', async () => {
    const text = '{"version":"1", // the format\n"tools":{"a":{}}}';
    const uri = workspace.policyUri('format.mcp-policy.jsonc');
    client.open(uri, text, 'jsonc');
    const fourSpaces = await client.request<TextEdit[]>('textDocument/formatting', { textDocument: { uri }, options: { tabSize: 4, insertSpaces: true } });
    assert.equal(applyTextEdits(text, fourSpaces), '{\n    "version": "1", // the format\n    "tools": {\n        "a": {}\n    }\n}');
    const tabs = await client.request<TextEdit[]>('textDocument/formatting', { textDocument: { uri }, options: { tabSize: 4, insertSpaces: false } });
    assert.equal(applyTextEdits(text, tabs), '{\n\t"version": "1", // the format\n\t"tools": {\n\t\t"a": {}\n\t}\n}');
  });
});

describe('mcp-policy lsp --stdio', () => {
  it('serves the same language server through the CLI', { skip: !cliBuilt() && 'dist/ is not built (node esbuild.mjs)' }, async () => {
    const client = await LspClient.start({ capabilities: PULL, entry: 'cli' });
    try {
      const text = '{ "version": "1", "tools": { "fluentcrm_resume_campain": {} } }';
      const uri = workspace.writePolicy(text, 'cli.mcp-policy.json');
      client.open(uri, text);
      const diagnostics = await client.pullDiagnostics(uri);
      assert.deepEqual(diagnostics.map((diagnostic) => [diagnostic.code, diagnostic.range]), [['unknown-tool', rangeOf(text, '"fluentcrm_resume_campain"')]]);
    } finally {
      await client.stop();
    }
  });

  it("runs the server with its heap flags (core/serverProcess.ts), and ends when the server does", { skip: (!cliBuilt() && 'dist/ is not built (node esbuild.mjs)') || (!existsSync('/proc/self/stat') && 'needs /proc') }, async () => {
    const client = await LspClient.start({ capabilities: PULL, entry: 'cli' });
    let server: number | undefined;
    try {
      const cli = client.child.pid!;
      // The CLI's child is the server: Node started with the flags, on dist/server.js.
      for (const entry of readdirSync('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        try {
          const ppid = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
          if (ppid === cli) server = Number(entry);
        } catch {
          // The process ended meanwhile.
        }
      }
      assert.ok(server !== undefined, 'the CLI started the server in a process of its own');
      const args = readFileSync(`/proc/${server}/cmdline`, 'utf8').split('\0');
      for (const flag of LANGUAGE_SERVER_NODE_FLAGS) assert.ok(args.includes(flag), `${flag} in ${args.join(' ')}`);
      assert.ok(args.some((arg) => arg.endsWith('server.js')) && args.includes('--stdio'), args.join(' '));
    } finally {
      await client.stop();
    }
    assert.equal(client.exited, 0, 'shutdown then exit: the CLI exits 0 with the server');
    assert.ok(server !== undefined && !existsSync(`/proc/${server}`), 'the server is gone too');
  });
});
