/**
 * The expected risk class of every tool of the servers users run most: FluentCRM (recorded,
 * classified by name alone as its live descriptions are Polish) and the reference servers from
 * npm, listed live.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { classifyTool, type ClassifiableTool, type RiskClass, type RiskSeverity } from '../../core';
import { fluentCrmToolsList } from './helpers';

type Expected = Record<string, `${RiskClass}/${RiskSeverity}`>;

const FLUENTCRM: Expected = {
  fluentcrm_list_contacts: 'read/low',
  fluentcrm_get_contact: 'read/low',
  fluentcrm_find_contact_by_email: 'read/low',
  fluentcrm_create_contact: 'write/medium',
  fluentcrm_update_contact: 'write/medium',
  fluentcrm_delete_contact: 'destructive/high',
  fluentcrm_list_tags: 'read/low',
  fluentcrm_create_tag: 'write/medium',
  fluentcrm_delete_tag: 'destructive/high',
  fluentcrm_attach_tag_to_contact: 'write/medium',
  fluentcrm_detach_tag_from_contact: 'write/medium',
  fluentcrm_list_lists: 'read/low',
  fluentcrm_create_list: 'write/medium',
  fluentcrm_delete_list: 'destructive/high',
  fluentcrm_attach_contact_to_list: 'write/medium',
  fluentcrm_detach_contact_from_list: 'write/medium',
  fluentcrm_list_campaigns: 'read/low',
  fluentcrm_create_campaign: 'write/medium',
  fluentcrm_pause_campaign: 'write/medium',
  fluentcrm_resume_campaign: 'execute/high',
  fluentcrm_delete_campaign: 'destructive/high',
  fluentcrm_list_email_templates: 'read/low',
  fluentcrm_create_email_template: 'write/medium',
  fluentcrm_list_automations: 'read/low',
  fluentcrm_create_automation: 'write/medium',
  fluentcrm_list_webhooks: 'read/low',
  fluentcrm_create_webhook: 'execute/high',
  fluentcrm_list_smart_links: 'read/low',
  fluentcrm_get_smart_link: 'read/low',
  fluentcrm_create_smart_link: 'write/medium',
  fluentcrm_update_smart_link: 'write/medium',
  fluentcrm_delete_smart_link: 'destructive/high',
  fluentcrm_generate_smart_link_shortcode: 'read/low',
  fluentcrm_validate_smart_link_data: 'read/low',
  fluentcrm_dashboard_stats: 'read/low',
  fluentcrm_custom_fields: 'read/low',
};

const FILESYSTEM: Expected = {
  read_file: 'read/low',
  read_text_file: 'read/low',
  read_media_file: 'read/low',
  read_multiple_files: 'read/low',
  write_file: 'destructive/high',
  edit_file: 'destructive/high',
  create_directory: 'write/medium',
  list_directory: 'read/low',
  list_directory_with_sizes: 'read/low',
  directory_tree: 'read/low',
  move_file: 'destructive/high',
  search_files: 'read/low',
  get_file_info: 'read/low',
  list_allowed_directories: 'read/low',
};

const EVERYTHING: Expected = {
  echo: 'read/low',
  'get-annotated-message': 'read/low',
  'get-env': 'read/low',
  'get-resource-links': 'read/low',
  'get-resource-reference': 'read/low',
  'get-structured-content': 'read/low',
  'get-sum': 'read/low',
  'get-tiny-image': 'read/low',
  'gzip-file-as-resource': 'execute/high',
  'toggle-simulated-logging': 'write/medium',
  'toggle-subscriber-updates': 'write/medium',
  'trigger-long-running-operation': 'read/low',
  'simulate-research-query': 'write/medium',
};

const MEMORY: Expected = {
  create_entities: 'write/medium',
  create_relations: 'write/medium',
  add_observations: 'write/medium',
  delete_entities: 'destructive/high',
  delete_observations: 'destructive/high',
  delete_relations: 'destructive/high',
  read_graph: 'read/low',
  search_nodes: 'read/low',
  open_nodes: 'read/low',
};

function classes(tools: readonly ClassifiableTool[]): Expected {
  return Object.fromEntries(tools.map((tool) => {
    const risk = classifyTool(tool);
    return [tool.name, `${risk.class}/${risk.severity}`];
  })) as Expected;
}

async function liveTools(binary: string, args: string[], env: Record<string, string> = {}): Promise<ClassifiableTool[]> {
  const client = new Client({ name: 'risk-table', version: '1' });
  const command = resolve(__dirname, '..', '..', '..', 'node_modules', '.bin', binary);
  await client.connect(new StdioClientTransport({ command, args, stderr: 'ignore', env: { ...(process.env as Record<string, string>), ...env } }));
  try {
    return (await client.listTools()).tools;
  } finally {
    await client.close();
  }
}

test('every FluentCRM tool has its expected class from its name alone (the live server describes them in Polish)', () => {
  const tools = fluentCrmToolsList().result.tools;
  assert.equal(tools.length, 36);
  assert.deepEqual(classes(tools.map((tool) => ({ name: tool.name, description: 'Pobiera dane z CRM (opis po polsku)' }))), FLUENTCRM);
  assert.deepEqual(classes(tools), FLUENTCRM, 'the recorded English descriptions agree');
});

test('the two FluentCRM tools that were misjudged say why they are what they are', () => {
  const webhook = classifyTool({ name: 'fluentcrm_create_webhook' });
  assert.match(webhook.why, /"webhook".*send data/);
  assert.equal(classifyTool({ name: 'fluentcrm_delete_webhook' }).class, 'destructive', 'removing a webhook stops the sending: destructive, not execute');
  assert.equal(classifyTool({ name: 'fluentcrm_custom_fields' }).why, 'name has no verb and names data ("fields"): it reads it');
  assert.equal(classifyTool({ name: 'order_processing' }).class, 'write', 'a name without a verb or a data noun is still assumed to change something');
});

test('every tool of server-filesystem, server-everything and server-memory has its expected class', async (t) => {
  const folder = mkdtempSync(join(tmpdir(), 'mcp-policy-risk-'));
  t.after(() => rmSync(folder, { recursive: true, force: true }));
  assert.deepEqual(classes(await liveTools('mcp-server-filesystem', [folder])), FILESYSTEM);
  assert.deepEqual(classes(await liveTools('mcp-server-everything', [])), EVERYTHING);
  assert.deepEqual(classes(await liveTools('mcp-server-memory', [], { MEMORY_FILE_PATH: join(folder, 'memory.json') })), MEMORY);
});
