import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyEdits } from 'jsonc-parser';
import { setValueJsonEdits } from '../../core';

/**
 * The VS Code client's Add Rule and Allow This Tool (client/policyEdits.ts) write their edits
 * with setValueJsonEdits, as the language server's quick fixes do: only the new or changed
 * part is written. jsonc-parser's formatting edits used to reformat the rules around it.
 */
const POLICY = [
  '{',
  '  "version": "1",',
  '  "tools": {',
  '    // keep this comment where it is',
  '    "crm_get_contact": {   "action": "deny",  "reason": "not yet" },',
  '    "crm_*": { "action": "approve" }   // approvals for the rest',
  '  },',
  '  "servers": { "mail": { "tools": { "mail_send": {"action":"deny"} } } }',
  '}',
].join('\n');

function apply(text: string, path: Array<string | number>, value: unknown): string {
  return applyEdits(text, setValueJsonEdits(text, path, value));
}

describe('the client\'s policy edits are minimal', () => {
  it('Add Rule writes the new rule on a line of its own and leaves neighbours and comments as written', () => {
    const result = apply(POLICY, ['tools', 'crm_list_tags'], {});
    const lines = POLICY.split('\n');
    assert.equal(result, [...lines.slice(0, 5), '    "crm_*": { "action": "approve" },   // approvals for the rest', '    "crm_list_tags": {}', ...lines.slice(6)].join('\n'));
  });

  it('Allow This Tool changes only the action of the deciding rule', () => {
    const result = apply(POLICY, ['tools', 'crm_get_contact', 'action'], 'allow');
    assert.equal(result, POLICY.replace('"action": "deny",  "reason"', '"action": "allow",  "reason"'));
    const server = apply(POLICY, ['servers', 'mail', 'tools', 'mail_send', 'action'], 'allow');
    assert.equal(server, POLICY.replace('{"action":"deny"}', '{"action":"allow"}'));
  });

  it('a rule for a server section is added inside that section only', () => {
    const result = apply(POLICY, ['servers', 'mail', 'tools', 'mail_list'], {});
    assert.equal(result, POLICY.replace('"mail_send": {"action":"deny"} }', '"mail_send": {"action":"deny"}, "mail_list": {} }'));
  });

  it('keeps CRLF line ends and tab indentation', () => {
    const text = '{\r\n\t"version": "1",\r\n\t"tools": {\r\n\t\t"a": {}\r\n\t}\r\n}\r\n';
    assert.equal(apply(text, ['tools', 'b'], {}), '{\r\n\t"version": "1",\r\n\t"tools": {\r\n\t\t"a": {},\r\n\t\t"b": {}\r\n\t}\r\n}\r\n');
  });
});
