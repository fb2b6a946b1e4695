/** Selector hover and diagnostics over LSP, against the recorded FluentCRM catalog. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { CompletionList, Hover, MarkupContent } from 'vscode-languageserver/node';
import { fluentCrmWorkspace, LspClient, positionAt, PULL, rangeOf } from './lspClient';

describe('risk-class selectors over LSP', () => {
  let client: LspClient;
  before(async () => (client = await LspClient.start({ capabilities: PULL })));
  after(() => client.stop());

  it('hover on a selector lists the catalog tools it covers; a malformed one and one that covers nothing are flagged', async () => {
    const workspace = fluentCrmWorkspace();
    const text = '{\n  "version": "1",\n  "servers": { "fluentcrm": { "tools": {\n    "@execute": { "action": "approve" },\n    "@read:critical": {},\n    "@risky": {}\n  } } }\n}\n';
    const uri = workspace.writePolicy(text, 'selectors.mcp-policy.json');
    client.open(uri, text);
    const range = rangeOf(text, '"@execute"');
    const hover = await client.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: { line: range.start.line, character: range.start.character + 2 } });
    const value = (hover?.contents as MarkupContent | undefined)?.value ?? '';
    assert.match(value, /every execute tool/);
    assert.match(value, /Covers 2 tools of the catalog/);
    assert.match(value, /fluentcrm_resume_campaign/);
    assert.match(value, /fluentcrm_create_webhook/);
    const diagnostics = await client.pullDiagnostics(uri);
    const byCode = (code: string) => diagnostics.filter((diagnostic) => String(diagnostic.code) === code);
    assert.equal(byCode('invalid-selector').length, 1);
    assert.equal(byCode('invalid-selector')[0]?.range.start.line, positionAt(text, text.indexOf('"@risky"')).line);
    assert.match(String(byCode('selector-matches-nothing')[0]?.message ?? ''), /"@read:critical" .* covers no tool in server "fluentcrm"/);
  });

  it('key completion counts the tools each selector covers, again after the catalog changes', async () => {
    const workspace = fluentCrmWorkspace();
    const text = '{\n  "version": "1",\n  "servers": { "fluentcrm": { "tools": {\n    \n  } } }\n}\n';
    const uri = workspace.writePolicy(text, 'counts.mcp-policy.json');
    client.open(uri, text);
    const at = positionAt(text, text.indexOf('{\n    \n') + 6);
    const executeDetail = async (): Promise<string | undefined> => {
      const result = await client.request<CompletionList | null>('textDocument/completion', { textDocument: { uri }, position: at });
      return result?.items.find((item) => item.label === '@execute')?.detail;
    };
    await client.pullDiagnostics(uri);
    assert.equal(await executeDetail(), 'risk-class selector — 2 tools');
    assert.equal(await executeDetail(), 'risk-class selector — 2 tools', 'asked twice');
    // One more execute tool in the catalog: the count follows the file, not what was counted before.
    const catalog = JSON.parse(readFileSync(workspace.catalogPath, 'utf8')) as { servers: { fluentcrm: { tools: Array<Record<string, unknown>> } } };
    catalog.servers.fluentcrm.tools.push({ name: 'fluentcrm_run_automation', description: 'Runs an automation now', inputSchema: { type: 'object' }, risk: { class: 'execute', severity: 'high', why: 'runs an automation' } });
    writeFileSync(workspace.catalogPath, JSON.stringify(catalog, null, 2));
    await client.connection.sendNotification('mcpPolicy/catalogChanged', { files: [pathToFileURL(workspace.catalogPath).href] });
    await client.pullDiagnostics(uri);
    assert.equal(await executeDetail(), 'risk-class selector — 3 tools');
  });
});
