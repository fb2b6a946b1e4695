import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ClientCapabilities, CompletionItem, CompletionList, Diagnostic, Hover, InsertReplaceEdit, MarkupContent, TextEdit } from 'vscode-languageserver/node';
import { catalogFromToolsList } from '../../core';
import { applyTextEdits, fluentCrmWorkspace, LspClient, positionAt, rangeOf } from './lspClient';

/** What Neovim 0.7.2's built-in client declares: push diagnostics, no file watching, no snippets, no insert/replace edits. */
const NEOVIM_07: ClientCapabilities = {
  textDocument: {
    publishDiagnostics: { relatedInformation: true },
    completion: { dynamicRegistration: false, completionItem: { snippetSupport: false, documentationFormat: ['markdown', 'plaintext'] }, contextSupport: false },
  },
  workspace: { applyEdit: true, configuration: true, workspaceFolders: true },
};

/** What VS Code declares about completion. */
const VSCODE_LIKE: ClientCapabilities = {
  textDocument: { publishDiagnostics: {}, completion: { completionItem: { snippetSupport: true, insertReplaceSupport: true } } },
  workspace: { didChangeWatchedFiles: { dynamicRegistration: true, relativePatternSupport: true } },
};

const workspace = fluentCrmWorkspace();
let counter = 0;

async function completeAt(client: LspClient, textWithCursor: string): Promise<{ items: CompletionItem[]; text: string; offset: number }> {
  const offset = textWithCursor.indexOf('|');
  const text = textWithCursor.slice(0, offset) + textWithCursor.slice(offset + 1);
  const uri = workspace.policyUri(`caps-${counter++}.mcp-policy.json`);
  client.open(uri, text);
  const result = await client.request<CompletionList | CompletionItem[] | null>('textDocument/completion', { textDocument: { uri }, position: positionAt(text, offset) });
  return { items: result === null ? [] : Array.isArray(result) ? result : result.items, text, offset };
}

/**
 * Neovim 0.7's omnifunc: the prefix is the keyword before the cursor; an item survives when
 * its word (the textEdit's newText) starts with it, and the word replaces the prefix; the
 * textEdit's range is not used.
 */
function neovimPick(text: string, offset: number, items: CompletionItem[], label: string): { shown: string[]; result: string } {
  const prefix = /[A-Za-z0-9_]*$/.exec(text.slice(0, offset))?.[0] ?? '';
  const word = (item: CompletionItem): string => item.textEdit?.newText ?? item.insertText ?? item.label;
  const shown = items.filter((item) => word(item).startsWith(prefix));
  const picked = shown.find((item) => item.label === label);
  assert.ok(picked, `Neovim shows no "${label}" for prefix "${prefix}"; it shows ${shown.map((item) => item.label).join(', ') || 'nothing'}`);
  return { shown: shown.map((item) => item.label), result: text.slice(0, offset - prefix.length) + word(picked) + text.slice(offset) };
}

function pick(items: CompletionItem[], label: string): CompletionItem {
  const found = items.find((item) => item.label === label);
  assert.ok(found, `no "${label}" in ${items.map((item) => item.label).join(', ')}`);
  return found;
}

function applyReplace(text: string, item: CompletionItem): string {
  const edit = item.textEdit as TextEdit | InsertReplaceEdit;
  const range = 'range' in edit ? edit.range : edit.replace;
  return applyTextEdits(text, [{ range, newText: edit.newText }, ...(item.additionalTextEdits ?? [])]);
}

describe('completion for a client without snippets or insert/replace edits (Neovim 0.7)', () => {
  let client: LspClient;
  before(async () => (client = await LspClient.start({ capabilities: NEOVIM_07 })));
  after(() => client.stop());

  it('B5: a typed prefix inside quotes still matches, and the picked tool is written once', async () => {
    const { items, text, offset } = await completeAt(client, '{ "version": "1", "tools": { "fluentcrm_res| } }');
    const { shown, result } = neovimPick(text, offset, items, 'fluentcrm_resume_campaign');
    assert.ok(shown.length >= 1 && shown.every((label) => label.startsWith('fluentcrm_res')), shown.join(', '));
    assert.equal(result, '{ "version": "1", "tools": { "fluentcrm_resume_campaign": {} } }');
  });

  it('B17: "default": "|" becomes "allow", not ""allow""', async () => {
    const { items, text, offset } = await completeAt(client, '{ "version": "1", "default": "|" }');
    assert.equal(neovimPick(text, offset, items, 'allow').result, '{ "version": "1", "default": "allow" }');
    assert.equal(applyReplace(text, pick(items, 'allow')), '{ "version": "1", "default": "allow" }');
  });

  it('B17: no item is a snippet or spans lines when the client has no snippet engine', async () => {
    for (const at of ['{ "version": "1", "servers": { "| } }', '{ "version": "1", "tools": { "| } }', '{ "version": "1", "all_tools": { "limits": [ | ] } }', '{ "version": "1", |']) {
      const { items } = await completeAt(client, at);
      assert.ok(items.length > 0, at);
      for (const item of items) {
        assert.notEqual(item.insertTextFormat, 2, `${item.label} is a snippet`);
        assert.doesNotMatch(item.textEdit?.newText ?? '', /\n|\$\{|\$0/, `${item.label}: ${item.textEdit?.newText}`);
      }
    }
  });

  it('B6: an unclosed quote mid-line keeps the text after the cursor', async () => {
    const { items, text } = await completeAt(client, '{ "version": "1", "tools": { "fluentcrm_res| } }');
    assert.equal(applyReplace(text, pick(items, 'fluentcrm_resume_campaign')), '{ "version": "1", "tools": { "fluentcrm_resume_campaign": {} } }');
  });

  it('B5: inside a closed key the name goes between the quotes and the rest after them', async () => {
    const { items, text } = await completeAt(client, '{ "version": "1", "tools": { "fluentcrm_res|" } }');
    const item = pick(items, 'fluentcrm_resume_campaign');
    assert.equal(item.filterText, 'fluentcrm_resume_campaign');
    assert.equal(applyReplace(text, item), '{ "version": "1", "tools": { "fluentcrm_resume_campaign": {} } }');
  });

  it('B3: a catalog that is changed, created, fixed and deleted on disk is re-read without didChangeWatchedFiles', async () => {
    const folder = fluentCrmWorkspace();
    rmSync(folder.catalogPath);
    const text = '{ "version": "1", "tools": { "crm_blast": {} } }';
    const uri = folder.writePolicy(text);
    const messages = (diagnostics: Diagnostic[] | undefined): string => (diagnostics ?? []).map((diagnostic) => `${String(diagnostic.code)}`).join(',');
    client.open(uri, text);
    await client.until(() => client.published.get(uri), 5000, 'first diagnostics');
    assert.equal(messages(client.published.get(uri)), '', 'no catalog yet: nothing to say');
    assert.ok(!client.registrations.some((registration) => registration.method === 'workspace/didChangeWatchedFiles'));
    // Created
    writeFileSync(folder.catalogPath, JSON.stringify(catalogFromToolsList('fluentcrm', folder.tools)));
    await client.until(() => (messages(client.published.get(uri)).includes('unknown-tool') ? true : undefined), 5000, 'unknown-tool after the catalog appeared');
    // Changed: the tool appears
    writeFileSync(folder.catalogPath, JSON.stringify(catalogFromToolsList('fluentcrm', [...folder.tools, { name: 'crm_blast', inputSchema: { type: 'object' } }])));
    await client.until(() => (!messages(client.published.get(uri)).includes('unknown-tool') ? true : undefined), 5000, 'unknown-tool gone after the catalog changed');
    // Broken, then fixed
    writeFileSync(folder.catalogPath, '{ "servers": [] }');
    await client.until(() => (messages(client.published.get(uri)).includes('catalog-problem') ? true : undefined), 5000, 'catalog-problem');
    writeFileSync(folder.catalogPath, JSON.stringify(catalogFromToolsList('fluentcrm', folder.tools)));
    await client.until(() => (messages(client.published.get(uri)) === 'unknown-tool' ? true : undefined), 5000, 'fixed catalog');
    // Deleted, and still right after close and reopen
    rmSync(folder.catalogPath);
    await client.until(() => (messages(client.published.get(uri)) === '' ? true : undefined), 5000, 'catalog deleted');
    client.close(uri);
    client.open(uri, text);
    await client.until(() => (messages(client.published.get(uri)) === '' ? true : undefined), 5000, 'reopened');
  });

  it('never logged an error', () => {
    assert.deepEqual(client.logs.filter((log) => log.type === 1), []);
  });
});

describe('completion for a client with snippets and insert/replace edits (VS Code)', () => {
  let client: LspClient;
  before(async () => (client = await LspClient.start({ capabilities: VSCODE_LIKE })));
  after(() => client.stop());

  it('gives insert and replace ranges whose text filters like filterText', async () => {
    const { items, text } = await completeAt(client, '{ "version": "1", "default": "al|low" }');
    const item = pick(items, 'allow');
    const edit = item.textEdit as InsertReplaceEdit;
    assert.ok(edit.insert && edit.replace, JSON.stringify(edit));
    assert.equal(item.filterText, 'allow');
    const typed = text.slice(text.indexOf('al'), text.indexOf('al') + 2);
    assert.equal(edit.insert.end.character - edit.insert.start.character, typed.length);
    assert.ok((item.filterText ?? item.label).startsWith(typed));
    assert.equal(applyReplace(text, item), '{ "version": "1", "default": "allow" }');
  });

  it('B12: nothing is offered inside a comment', async () => {
    for (const at of ['{ "version": "1", // fluentcrm_res|\n "tools": {} }', '{ "version": "1", "tools": { /* "fluentcrm_| */ } }']) {
      const { items } = await completeAt(client, at);
      assert.deepEqual(items.map((item) => item.label), [], at);
    }
  });

  it('a hover inside a comment shows nothing, though the comment names a tool or a keyword', async () => {
    const text = '{ "version": "1", // "fluentcrm_resume_campaign" and "default"\n "tools": { /* "fluentcrm_delete_tag" */ "fluentcrm_resume_campaign": {} } }';
    const uri = workspace.writePolicy(text, 'hover-comment.mcp-policy.json');
    client.open(uri, text);
    for (const inside of ['resume_campaign" and', 'default"\n', 'delete_tag" */']) {
      const hover = await client.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: rangeOf(text, inside).start });
      assert.equal(hover, null, `hover at ${inside}: ${JSON.stringify(hover)}`);
    }
    // The same tool outside the comment still has its hover.
    const outside = await client.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: rangeOf(text, 'resume_campaign": {}').start });
    assert.ok(outside !== null);
  });

  it('B13: a hide entry written before another one gets its comma', async () => {
    const { items, text } = await completeAt(client, '{ "version": "1", "hide": [ "fluentcrm_res|" "fluentcrm_delete_tag" ] }');
    assert.equal(applyReplace(text, pick(items, 'fluentcrm_resume_campaign')), '{ "version": "1", "hide": [ "fluentcrm_resume_campaign", "fluentcrm_delete_tag" ] }');
    const bare = await completeAt(client, '{ "version": "1", "hide": [ | "fluentcrm_delete_tag" ] }');
    assert.equal(applyReplace(bare.text, pick(bare.items, 'fluentcrm_resume_campaign')), '{ "version": "1", "hide": [ "fluentcrm_resume_campaign", "fluentcrm_delete_tag" ] }');
  });

  it('B6b: a glob in a hover is shown literally, its * not read as emphasis', async () => {
    const text = '{ "version": "1", "tools": { "*_delete_*": { "action": "deny" } } }';
    const uri = workspace.writePolicy(text, 'hover-glob.mcp-policy.json');
    client.open(uri, text);
    const hover = await client.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: rangeOf(text, '_delete_').start });
    const markdown = (hover?.contents as MarkupContent | undefined)?.value ?? '';
    assert.match(markdown, /^\*\*\\\*\\_delete\\_\\\*\*\* matches \d+ tools/);
  });
});

describe('the server watches catalogs itself only when the client cannot', () => {
  it('asks a client that can watch files to do it, and reloads on its notification', async () => {
    const folder = fluentCrmWorkspace();
    const client = await LspClient.start({ capabilities: VSCODE_LIKE });
    try {
      const text = '{ "version": "1", "tools": { "crm_blast": {} } }';
      const uri = folder.writePolicy(text);
      client.open(uri, text);
      await client.until(() => client.published.get(uri), 5000, 'first diagnostics');
      await client.until(() => (client.registrations.some((registration) => registration.method === 'workspace/didChangeWatchedFiles') ? true : undefined), 5000, 'registration');
      writeFileSync(join(folder.folder, 'mcp-policy.catalog.json'), JSON.stringify(catalogFromToolsList('fluentcrm', [...folder.tools, { name: 'crm_blast', inputSchema: { type: 'object' } }])));
      await client.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: `file://${folder.catalogPath}`, type: 2 }] });
      await client.until(() => (!(client.published.get(uri) ?? []).some((diagnostic) => diagnostic.code === 'unknown-tool') ? true : undefined), 5000, 'reloaded');
    } finally {
      await client.stop();
    }
  });
});
