/** Selector hover and diagnostics over LSP, against the recorded FluentCRM catalog. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Hover, MarkupContent } from 'vscode-languageserver/node';
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
});
