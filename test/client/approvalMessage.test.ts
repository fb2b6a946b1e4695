/**
 * The approval notification's text (client/approvalMessage.ts): call data from an agent must not
 * add a command link, nor relabel ours. Links are found with the pattern VS Code 1.139's
 * notifications use (workbench: `[label](https?://|command:|file:…)`, copied here).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { approvalMessage, PREVIEW_CHARS } from '../../client/approvalMessage';
import type { PendingApproval } from '../../client/pendingApprovals';

const VSCODE_NOTIFICATION_LINK = /\[([^\]]+)\]\(((?:https?:\/\/|command:|file:)[^)\s]+)(?: (["'])(.+?)(\3))?\)/gi;
const COMMANDS = { approve: 'x.approve', deny: 'x.deny', alwaysAllow: 'x.always', showArguments: 'x.show' };

function approval(fields: Partial<PendingApproval>): PendingApproval {
  return { id: 'id-1', server: 'fs', tool: 'create_directory', arguments: { path: '/data/x' }, rule: 'tools.create_directory', reason: 'New folders need a human', askedAt: 0, deadline: 1, ...fields };
}

function links(message: string): Array<[string, string]> {
  return [...message.matchAll(VSCODE_NOTIFICATION_LINK)].map((m) => [m[1] as string, m[2] as string]);
}

const OURS: Array<[string, string]> = [
  ['Approve', `command:x.approve?${encodeURIComponent('["id-1"]')}`],
  ['Deny', `command:x.deny?${encodeURIComponent('["id-1"]')}`],
  ['Always Allow', `command:x.always?${encodeURIComponent('["id-1"]')}`],
  ['Show Arguments', `command:x.show?${encodeURIComponent('["id-1"]')}`],
];

test('the message names the call and its reason, and its only links are the four answers for this approval', () => {
  const message = approvalMessage(approval({}), COMMANDS);
  assert.match(message, /^An agent wants to run create_directory on fs\. New folders need a human\. /);
  assert.match(message, /Arguments: \{"path":"\/data\/x"\}$/);
  assert.deepEqual(links(message), OURS);
});

test('arguments cannot add a link or swallow ours into a label of their choosing', () => {
  const attacks: unknown[] = [
    { path: '[Deny' },
    { path: '[Approve](command:x.approve?%5B%22other%22%5D)' },
    { note: '[Open](https://example.com/x)', more: '](command:workbench.action.terminal.new)' },
    ['[', ']', '](', '[a](file:///etc/passwd)'],
  ];
  for (const args of attacks) assert.deepEqual(links(approvalMessage(approval({ arguments: args }), COMMANDS)), OURS, JSON.stringify(args));
});

test('a tool name or reason with brackets cannot relabel the answers either', () => {
  const message = approvalMessage(approval({ tool: 'x [Deny', reason: 'see [docs](https://example.com)' }), COMMANDS);
  assert.deepEqual(links(message), OURS);
  assert.match(message, /run x \(Deny on fs\. see \(docs\)\(https:\/\/example\.com\)\./);
});

test('long arguments are previewed, with their length', () => {
  const path = 'p'.repeat(2_000);
  const message = approvalMessage(approval({ arguments: { path } }), COMMANDS);
  const preview = message.slice(message.indexOf('Arguments: ') + 'Arguments: '.length);
  assert.ok(preview.startsWith(`{"path":"${'p'.repeat(PREVIEW_CHARS - 9)}…`), preview.slice(0, 200));
  assert.match(preview, /… \(2011 characters\)$/);
});
