import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyTool } from '../../core';
import { fluentCrmToolsList } from './helpers';

test('FluentCRM tools are classified by their names alone (their own descriptions are not English)', () => {
  const byName = new Map(fluentCrmToolsList().result.tools.map((tool) => [tool.name, classifyTool({ name: tool.name, description: 'Pobiera listę kontaktów z CRM' })]));
  assert.deepEqual(byName.get('fluentcrm_resume_campaign'), { class: 'execute', severity: 'high', why: 'name has the verb "resume"' });
  assert.equal(byName.get('fluentcrm_delete_contact')?.class, 'destructive');
  assert.equal(byName.get('fluentcrm_list_contacts')?.class, 'read');
  assert.equal(byName.get('fluentcrm_find_contact_by_email')?.class, 'read', 'the verb leads; "email" is a noun here');
  assert.equal(byName.get('fluentcrm_create_contact')?.class, 'write');
  assert.equal(byName.get('fluentcrm_pause_campaign')?.class, 'write');
  assert.equal(byName.get('fluentcrm_custom_fields')?.class, 'read', 'the name names data; a Polish description is not read as English');
  assert.equal(classifyTool({ name: 'fluentcrm_campaign_blast', description: 'Wysyła kampanię' }).why, 'no annotations and no known verb: assumed to change something', 'a Polish description is not read as English');
});

test('annotations decide when present', () => {
  assert.equal(classifyTool({ name: 'delete_everything', annotations: { readOnlyHint: true } }).class, 'read');
  assert.equal(classifyTool({ name: 'write_file', annotations: { readOnlyHint: false, destructiveHint: true } }).class, 'destructive');
  assert.equal(classifyTool({ name: 'create_directory', annotations: { readOnlyHint: false, destructiveHint: false } }).class, 'write');
  assert.equal(classifyTool({ name: 'list_things', annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: true } }).class, 'execute');
  assert.equal(classifyTool({ name: 'send_mail', annotations: { title: 'Send' } }).class, 'execute', 'no hints: the name decides');
});

test('English descriptions help when the name has no verb', () => {
  assert.equal(classifyTool({ name: 'custom_fields', description: 'Retrieves custom fields' }).class, 'read');
  assert.equal(classifyTool({ name: 'campaign_blast', description: 'Sends the campaign to all contacts' }).class, 'execute');
  assert.equal(classifyTool({ name: 'runShellCommand' }).severity, 'critical');
  assert.equal(classifyTool({ name: 'get-env' }).class, 'read');
  assert.equal(classifyTool({ name: 'trigger-long-running-operation' }).class, 'execute');
});
