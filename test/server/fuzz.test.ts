import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseTree, type ParseError } from 'jsonc-parser';
import type { Range } from 'vscode-languageserver/node';
import { mulberry32 as prng } from '../core/helpers';
import { fluentCrmWorkspace, LspClient, positionAt, PULL } from './lspClient';


const SEED = Number(process.env.FUZZ_SEED ?? 20261123);
const MUTATIONS = Number(process.env.FUZZ_MUTATIONS ?? 10000);
/** Mutations pile up on one text this many times before it starts again from a valid policy. */
const RUN = 40;
const BATCH = 100;

const VALID_POLICIES = [
  `{
  "$schema": "./node_modules/mcp-policy/schemas/policy.schema.json",
  "version": "1",
  "default": "deny",                       // for tools no rule matches
  "hide": ["*_delete_*"],
  "all_tools": { "limits": [ { "counter": "all", "window": "minute", "max": 120 } ] },
  "tools": {
    "fluentcrm_list_*": {},
    "fluentcrm_resume_campaign": {
      "action": "approve",
      "reason": "Sends mail to every contact of the campaign",
      "limits": [ { "counter": "fluentcrm_resume_campaign_rate", "window": "minute", "max": 10, "scope": "grant" } ],
      "validate_input": true,
      "arguments": {
        "properties": { "campaignId": { "type": "integer", "minimum": 1 } },
        "required": ["campaignId"]
      }
    }
  },
  "servers": {
    "fluentcrm": {
      "upstream": { "command": "node", "args": ["dist/fluentcrm-mcp-server.js"], "env": {} },
      "default": "deny", "hide": [], "all_tools": { "limits": [] }, "tools": { "fluentcrm_get_*": {} }
    }
  },
  "catalog": ["./mcp-policy.catalog.json"],
  "audit": { "redact": ["*password*", "*token*", "*secret*"] },
  "approval": { "timeout": 60 }
}
`,
  `{
  "version": "1",
  "default": "allow",
  "tools": {
    "fluentcrm_send_*": { "action": "deny" },
    "fluentcrm_create_campaign": { "limits": [{ "counter": "emails", "window": "hour", "max": 5 }] },
    "fluentcrm_pause_campaign": { "limits": [{ "counter": "emails", "window": "hour", "max": 5 }], "validate_input": true },
    "fluentcrm_update_contact": { "arguments": { "properties": { "phone": { "type": "string" } } } },
  },
}
`,
];

/** Catalogs of the wrong shape: the policy must still get its diagnostics (issue 13, B4/B15). */
const BAD_CATALOGS = [
  '{ "version": "1", "servers": [] }',
  '{ "version": "1", "servers": null }',
  '{ "version": "1", "servers": { "fluentcrm": { "tools": { "a": 1 } } } }',
  '{ "version": "1", "servers": { "fluentcrm": { "tools": [null, 3, { "name": 7 }, { "name": "fluentcrm_list_contacts", "risk": "high", "inputSchema": [] }] } } }',
  '{ "version": "1", "servers": { "fluentcrm": null } }',
  'not json at all',
  '[]',
];

/** Snippets a person (or a paste) puts into a policy, beyond one-character slips. */
const INSERTS = [
  '"tools": {},',
  '"fluentcrm_list_*": { "action": "deny" },',
  '"default": "allow", "default": "deny",',
  '"',
  '// a comment "with quotes" {\n',
  '/* an unclosed comment ',
  '/* closed */',
  '"unclosed',
];

/** Text that a policy with parse errors, or nesting too deep, must never be reported clean for. */
function hasSyntaxErrors(text: string): boolean {
  const errors: ParseError[] = [];
  try {
    parseTree(text, errors, { allowTrailingComma: true });
  } catch {
    return true; // too deep for the parser itself
  }
  return errors.length > 0 || text.trim() === '';
}

interface Check {
  method: string;
  text: string;
  response: Promise<unknown>;
}

function inside(text: string, range: Range): boolean {
  const lines = text.split('\n');
  const ok = (position: { line: number; character: number }): boolean =>
    Number.isInteger(position.line) && position.line >= 0 && position.line < lines.length && position.character >= 0 && position.character <= (lines[position.line]?.length ?? 0);
  return ok(range.start) && ok(range.end) && (range.start.line < range.end.line || (range.start.line === range.end.line && range.start.character <= range.end.character));
}

/** Shape checks of each answer, against the text the request was made on. */
function verify(method: string, text: string, response: unknown): void {
  const fail = (why: string): never => assert.fail(`${method}: ${why}: ${JSON.stringify(response).slice(0, 400)}`);
  switch (method) {
    case 'textDocument/completion': {
      if (response === null) return;
      const list = response as { isIncomplete: unknown; items: unknown };
      if (typeof list.isIncomplete !== 'boolean' || !Array.isArray(list.items)) fail('not a CompletionList');
      for (const item of list.items as Array<{ label: unknown; textEdit?: { range: Range; newText: unknown } }>) {
        // One label once: a second copy would be a second provider's, or a bug.
        if ((list.items as Array<{ label: unknown }>).filter((other) => other.label === item.label).length > 1) fail(`"${String(item.label)}" offered twice`);
        if (typeof item.label !== 'string') fail('item without a label');
        if (item.textEdit && (!inside(text, item.textEdit.range) || typeof item.textEdit.newText !== 'string')) fail('text edit outside the document');
      }
      return;
    }
    case 'textDocument/hover': {
      if (response === null) return;
      const hover = response as { contents: { kind: unknown; value: unknown }; range?: Range };
      if (hover.contents?.kind !== 'markdown' || typeof hover.contents.value !== 'string') fail('hover without markdown');
      if (hover.range && !inside(text, hover.range)) fail('hover range outside the document');
      return;
    }
    case 'textDocument/documentSymbol': {
      if (!Array.isArray(response)) fail('symbols are not an array');
      const visit = (symbols: Array<{ name: unknown; range: Range; selectionRange: Range; children?: unknown[] }>): void => {
        for (const symbol of symbols) {
          if (typeof symbol.name !== 'string' || symbol.name.length === 0) fail('symbol without a name');
          if (!inside(text, symbol.range) || !inside(text, symbol.selectionRange)) fail('symbol outside the document');
          visit((symbol.children ?? []) as typeof symbols);
        }
      };
      visit(response as Parameters<typeof visit>[0]);
      return;
    }
    case 'textDocument/codeAction': {
      if (!Array.isArray(response)) fail('code actions are not an array');
      for (const action of response as Array<{ title: unknown; edit?: { changes?: Record<string, Array<{ range: Range }>> } }>) {
        if (typeof action.title !== 'string') fail('action without a title');
        for (const edits of Object.values(action.edit?.changes ?? {})) for (const edit of edits) if (!inside(text, edit.range)) fail('edit outside the document');
      }
      return;
    }
    case 'textDocument/diagnostic': {
      const report = response as { kind: unknown; items: Array<{ range: Range; source: unknown; code: unknown }> };
      if (report.kind !== 'full' || !Array.isArray(report.items)) fail('not a full report');
      if (report.items.length === 0 && hasSyntaxErrors(text)) fail('a file with syntax errors reported clean');
      for (const item of report.items) {
        if (!inside(text, item.range)) fail('diagnostic outside the document');
        if (item.source !== 'mcp-policy' || typeof item.code !== 'string') fail('diagnostic without source or code');
      }
      return;
    }
    default:
      fail('unexpected method');
  }
}

describe(`fuzz: ${MUTATIONS} mutations of valid policies (seed ${SEED})`, () => {
  let client: LspClient;
  const workspace = fluentCrmWorkspace();
  before(async () => (client = await LspClient.start({ capabilities: PULL })));
  after(() => client.stop());

  it('answers every request with a well-formed response and never crashes or logs an exception', { timeout: 120_000 }, async () => {
    const random = prng(SEED);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const uri = workspace.writePolicy(VALID_POLICIES[0]!, 'fuzz.mcp-policy.jsonc');
    const goodCatalog = readFileSync(workspace.catalogPath, 'utf8');
    client.open(uri, VALID_POLICIES[0]!);
    const methods = ['textDocument/completion', 'textDocument/hover', 'textDocument/documentSymbol', 'textDocument/codeAction', 'textDocument/diagnostic'] as const;
    let checks: Check[] = [];
    for (let mutation = 0; mutation < MUTATIONS; mutation++) {
      if (mutation % RUN === 0) client.replace(uri, pick(VALID_POLICIES));
      const text = client.text(uri);
      const at = Math.floor(random() * Math.max(text.length - 1, 1));
      const kind = pick(['delete', 'duplicate', 'swap', 'delete', 'duplicate', 'swap', 'insert', 'insert', 'line', 'nest'] as const);
      if (kind === 'delete') client.edit(uri, at, at + 1, '');
      else if (kind === 'duplicate') client.edit(uri, at, at, text.charAt(at));
      else if (kind === 'swap') client.edit(uri, at, at + 2, text.charAt(at + 1) + text.charAt(at));
      else if (kind === 'insert') client.edit(uri, at, at, pick(INSERTS));
      else if (kind === 'line') {
        // A whole line written twice: duplicate keys, mostly.
        const start = text.lastIndexOf('\n', at) + 1;
        const end = text.indexOf('\n', at);
        const line = text.slice(start, end < 0 ? text.length : end + 1);
        client.edit(uri, start, start, line);
      } else {
        const depth = random() < 0.05 ? 6000 : Math.floor(random() * 200);
        client.edit(uri, at, at, random() < 0.5 ? '{ "a": '.repeat(depth) : '['.repeat(depth));
      }
      if (mutation % 500 === 250) {
        // The catalog beside the policy turns bad, or good again.
        writeFileSync(workspace.catalogPath, random() < 0.7 ? pick(BAD_CATALOGS) : goodCatalog);
        await client.connection.sendNotification('mcpPolicy/catalogChanged', {});
      }
      const current = client.text(uri);
      const method = pick(methods);
      const offset = Math.floor(random() * (current.length + 1));
      const position = positionAt(current, offset);
      const params =
        method === 'textDocument/codeAction'
          ? { textDocument: { uri }, range: { start: position, end: positionAt(current, Math.min(current.length, offset + 40)) }, context: { diagnostics: [] } }
          : method === 'textDocument/documentSymbol' || method === 'textDocument/diagnostic'
            ? { textDocument: { uri } }
            : { textDocument: { uri }, position };
      checks.push({ method, text: current, response: client.request(method, params) });
      if (checks.length >= BATCH) {
        for (const check of checks) verify(check.method, check.text, await check.response);
        checks = [];
        assert.equal(client.exited, undefined, `the server exited (seed ${SEED}, mutation ${mutation})`);
      }
    }
    for (const check of checks) verify(check.method, check.text, await check.response);
    assert.equal(client.exited, undefined, 'the server exited');
    assert.deepEqual(client.logs.filter((log) => log.type === 1), [], `errors logged (seed ${SEED})`);
    assert.equal(client.stderr, '', `stderr (seed ${SEED})`);
  });
});
