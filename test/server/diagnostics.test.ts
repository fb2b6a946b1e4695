import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { Diagnostic, Range } from 'vscode-languageserver/node';
import { catalogFromToolsList } from '../../core';
import { fluentCrmWorkspace, LspClient, positionAt, PULL, PUSH, rangeOf } from './lspClient';

/** One policy with one problem of every class; each is asserted at its exact range. */
const POLICY = `{
  "$schema": "../schemas/policy.schema.json",
  "version": "1",
  "default": "maybe",
  "catalog": ["./missing.catalog.json"],
  "hide": ["fluentcrm_delete_*"],
  "tools": {
    "fluentcrm_list_*": {},
    "fluentcrm_ge*": {},
    "*_get_contact": {},
    "fluentcrm_pause_*": { "action": "approve" },
    "fluentcrm_pause_campaign": {
      "action": "approve",
      "limits": [{ "counter": "emails", "window": "minute", "max": 10 }],
      "arguments": { "properties": { "campaign_id": { "type": "integer" } } }
    },
    "fluentcrm_resume_campaign": {},
    "fluentcrm_resume_campain": { "acton": "deny" },
    "fluentcrm_delete_tag": {},
    "hubspot_*": {},
    "fluentcrm_create_campaign": {
      "action": "approve",
      "limits": [{ "counter": "emails", "window": "hour", "max": 10 }, { "window": "day", "max": 0 }]
    }
  }
}
`;

function find(diagnostics: Diagnostic[], code: string, range: Range): Diagnostic & { message: string } {
  const found = diagnostics.find((diagnostic) => diagnostic.code === code && JSON.stringify(diagnostic.range) === JSON.stringify(range));
  assert.ok(found, `no ${code} at ${JSON.stringify(range)}; got:\n${diagnostics.map((d) => `${d.code} ${JSON.stringify(d.range)} ${d.message}`).join('\n')}`);
  assert.equal(found.source, 'mcp-policy');
  assert.equal(typeof found.message, 'string');
  return found as Diagnostic & { message: string };
}

describe('diagnostics over LSP (pull)', () => {
  let client: LspClient;
  const workspace = fluentCrmWorkspace();
  const uri = workspace.writePolicy(POLICY);
  let diagnostics: Diagnostic[];

  before(async () => {
    client = await LspClient.start({ capabilities: PULL });
    client.open(uri, POLICY);
    diagnostics = await client.pullDiagnostics(uri);
  });
  after(() => client.stop());

  it('reports schema errors at the exact value', () => {
    assert.match(find(diagnostics, 'schema', rangeOf(POLICY, '"maybe"')).message, /"allow", "deny", "approve"/);
    const zero = POLICY.indexOf('"max": 0') + '"max": '.length;
    assert.match(find(diagnostics, 'schema', { start: positionAt(POLICY, zero), end: positionAt(POLICY, zero + 1) }).message, /1 or more/);
  });

  it('reports an unknown property at its key with a suggestion', () => {
    const diagnostic = find(diagnostics, 'unknown-property', rangeOf(POLICY, '"acton"'));
    assert.match(diagnostic.message, /did you mean "action"/);
    assert.equal(diagnostic.severity, 1);
  });

  it('reports an unknown tool with did-you-mean at its key', () => {
    const diagnostic = find(diagnostics, 'unknown-tool', rangeOf(POLICY, '"fluentcrm_resume_campain"'));
    assert.match(diagnostic.message, /did you mean "fluentcrm_resume_campaign"/);
    // That name has its own rule in this policy: no suggestion to apply, it would be a duplicate key.
    assert.equal((diagnostic.data as { suggestion?: string } | undefined)?.suggestion, undefined);
  });

  it('reports a glob that matches nothing', () => {
    assert.match(find(diagnostics, 'glob-matches-nothing', rangeOf(POLICY, '"hubspot_*"')).message, /matches no tool/);
  });

  it('reports an unknown argument name against the inputSchema', () => {
    assert.match(find(diagnostics, 'unknown-argument', rangeOf(POLICY, '"campaign_id"')).message, /did you mean "campaignId"/);
  });

  it('reports counters that disagree', () => {
    assert.match(find(diagnostics, 'counter-mismatch', rangeOf(POLICY, '"hour"')).message, /counter "emails"/);
  });

  it('reports tied globs, hidden rules and shadowed rules at their keys', () => {
    assert.match(find(diagnostics, 'glob-tie', rangeOf(POLICY, '"*_get_contact"')).message, /ties with "fluentcrm_ge\*"/);
    const hidden = find(diagnostics, 'hidden-rule', rangeOf(POLICY, '"fluentcrm_delete_tag"'));
    assert.deepEqual(hidden.tags, [1]);
    assert.match(find(diagnostics, 'shadowed-rule', rangeOf(POLICY, '"fluentcrm_pause_*"')).message, /never decides/);
  });

  it('warns about a risky tool allowed with no limit, naming the tool, its class and what to add', () => {
    const diagnostic = find(diagnostics, 'risky-allow', rangeOf(POLICY, '"fluentcrm_resume_campaign"'));
    assert.equal(diagnostic.severity, 2);
    assert.match(diagnostic.message, /fluentcrm_resume_campaign \(execute, high\)/);
    assert.match(diagnostic.message, /add a limit or "validate_input": true/);
  });

  it('reports a named catalog that does not exist at its entry', () => {
    assert.match(find(diagnostics, 'catalog-problem', rangeOf(POLICY, '"./missing.catalog.json"')).message, /not found/);
  });

  it('reports syntax errors and keeps the rest of the analysis', async () => {
    const broken = '{\n  "version": "1"\n  "tools": { "fluentcrm_resume_campain": {} }\n}';
    const brokenUri = workspace.writePolicy(broken, 'broken.mcp-policy.json');
    client.open(brokenUri, broken);
    const items = await client.pullDiagnostics(brokenUri);
    find(items, 'syntax', rangeOf(broken, '"tools"'));
    find(items, 'unknown-tool', rangeOf(broken, '"fluentcrm_resume_campain"'));
  });

  it('ignores JSON files that are not policies', async () => {
    const other = pathToFileURL(`${workspace.folder}/package.json`).href;
    client.open(other, '{ "name": 1, }');
    assert.deepEqual(await client.pullDiagnostics(other), []);
  });

  it('recognizes a policy by its $schema whatever its name', async () => {
    const text = '{ "$schema": "https://mcp-policy.dev/schemas/policy.schema.json", "version": "2" }';
    const named = pathToFileURL(`${workspace.folder}/guard.json`).href;
    client.open(named, text);
    find(await client.pullDiagnostics(named), 'schema', rangeOf(text, '"2"'));
  });

  it('re-pulls after mcpPolicy/catalogChanged when the catalog changed on disk', async () => {
    const text = '{ "version": "1", "tools": { "crm_send_blast": {} } }';
    const changedUri = workspace.writePolicy(text, 'refresh.mcp-policy.json');
    client.open(changedUri, text);
    find(await client.pullDiagnostics(changedUri), 'unknown-tool', rangeOf(text, '"crm_send_blast"'));
    const catalog = catalogFromToolsList('fluentcrm', [...workspace.tools, { name: 'crm_send_blast', inputSchema: { type: 'object' } }]);
    writeFileSync(workspace.catalogPath, JSON.stringify(catalog));
    const refreshes = client.refreshes;
    await client.connection.sendNotification('mcpPolicy/catalogChanged', { files: [pathToFileURL(workspace.catalogPath).href] });
    await client.until(() => (client.refreshes > refreshes ? true : undefined), 5000, 'workspace/diagnostic/refresh');
    const after = await client.pullDiagnostics(changedUri);
    assert.ok(!after.some((diagnostic) => diagnostic.code === 'unknown-tool'), JSON.stringify(after));
    find(after, 'risky-allow', rangeOf(text, '"crm_send_blast"'));
    writeFileSync(workspace.catalogPath, JSON.stringify(catalogFromToolsList('fluentcrm', workspace.tools)));
    await client.connection.sendNotification('mcpPolicy/catalogChanged', {});
  });

  it('never logged an error', () => {
    assert.deepEqual(client.logs.filter((log) => log.type === 1), []);
    assert.equal(client.stderr, '');
  });
});

describe('diagnostics over LSP (push)', () => {
  it('publishes debounced diagnostics and updates them when a watched catalog file changes', async () => {
    const workspace = fluentCrmWorkspace();
    const text = '{\n  "version": "1",\n  "tools": { "crm_archive_everything": {} }\n}\n';
    const uri = workspace.writePolicy(text);
    const client = await LspClient.start({ capabilities: PUSH });
    try {
      client.open(uri, text);
      const first = await client.until(() => client.published.get(uri), 5000, 'first diagnostics');
      find(first, 'unknown-tool', rangeOf(text, '"crm_archive_everything"'));
      await client.until(() => (client.registrations.some((registration) => registration.method === 'workspace/didChangeWatchedFiles') ? true : undefined), 5000, 'watcher registration');
      const watchers = client.registrations.find((registration) => registration.method === 'workspace/didChangeWatchedFiles')?.registerOptions as { watchers: Array<{ globPattern: unknown }> };
      assert.ok(watchers.watchers.some((watcher) => watcher.globPattern === '**/*.catalog.json'));

      // An edit is answered once, after typing pauses.
      client.published.delete(uri);
      const edited = text.replace('crm_archive_everything', 'crm_archive_everythin');
      client.replace(uri, edited);
      const second = await client.until(() => client.published.get(uri), 5000, 'diagnostics after an edit');
      find(second, 'unknown-tool', rangeOf(edited, '"crm_archive_everythin"'));

      // The catalog on disk gains the tool: diagnostics change without touching the policy.
      const catalog = catalogFromToolsList('fluentcrm', [...workspace.tools, { name: 'crm_archive_everythin', inputSchema: { type: 'object' } }]);
      writeFileSync(workspace.catalogPath, JSON.stringify(catalog));
      client.published.delete(uri);
      await client.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: pathToFileURL(workspace.catalogPath).href, type: 2 }] });
      const third = await client.until(() => client.published.get(uri), 5000, 'diagnostics after the catalog changed');
      assert.ok(!third.some((diagnostic) => diagnostic.code === 'unknown-tool'), JSON.stringify(third));

      // Closing clears what was shown.
      client.close(uri);
      await client.until(() => (client.published.get(uri)?.length === 0 ? true : undefined), 5000, 'cleared diagnostics');
      assert.deepEqual(client.logs.filter((log) => log.type === 1), []);
    } finally {
      await client.stop();
    }
  });
});
