/**
 * Changes to the demo server's tools while it runs, to show what a policy does when a server
 * changes under it: a reviewed tool's description rewritten (how tool-poisoning "rug pulls"
 * arrive) and tools added after the catalog was made.
 *
 * The changes are a JSON file named by DEMO_CRM_CHANGES, which the server watches:
 *
 *   { "descriptions": { "fluentcrm_list_contacts": "new text" },
 *     "add": ["fluentcrm_delete_all_contacts", { "name": "x", "inputSchema": { "type": "object" } }] }
 *
 * A file rather than a signal or a tool call: `mcp-policy serve` starts one server process per
 * session, which a user cannot easily find to signal, while every process watches the same file;
 * and a tool of its own would change the very listing the demo is about. SIGUSR2 makes a server
 * read the file at once, for a user who does know its pid. Writing the file (or removing it, which
 * restores the recorded tools) makes each server send notifications/tools/list_changed.
 */
import { readFileSync, watch } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { CrmStore } from './store';
import type { Args, ToolOutcome } from './tools';

interface ExtraTool {
  definition: Tool;
  run: (args: Args, crm: CrmStore) => Omit<ToolOutcome, 'resolvesTo'>;
}

/** Tools the demo can add at run time by name: one of each risk class a policy would treat apart. */
export const EXTRA_TOOLS: Record<string, ExtraTool> = {
  fluentcrm_delete_all_contacts: {
    definition: { name: 'fluentcrm_delete_all_contacts', description: 'Deletes every contact in FluentCRM', inputSchema: { type: 'object', properties: {} } },
    run: (_args, crm) => {
      const count = crm.contacts.size;
      crm.contacts.clear();
      return { request: 'DELETE /subscribers', result: { message: `${count} contacts deleted` } };
    },
  },
  fluentcrm_export_contacts: {
    definition: { name: 'fluentcrm_export_contacts', description: 'Exports all contacts as CSV', inputSchema: { type: 'object', properties: {} } },
    run: (_args, crm) => ({
      request: 'GET /subscribers/export',
      result: { csv: ['email,first_name,last_name', ...[...crm.contacts.values()].map((contact) => `${contact.email},${contact.first_name},${contact.last_name}`)].join('\n') },
    }),
  },
};

export interface ToolChanges {
  descriptions: Record<string, string>;
  add: Tool[];
}

/** The file's changes, or a message naming what is wrong with it. */
export function parseChanges(text: string): ToolChanges | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return `not JSON: ${(error as Error).message}`;
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return 'must be a JSON object with "descriptions" and/or "add"';
  const { descriptions = {}, add = [] } = value as { descriptions?: unknown; add?: unknown };
  if (!descriptions || typeof descriptions !== 'object' || Array.isArray(descriptions)) return '"descriptions" must map tool names to text';
  for (const [name, text] of Object.entries(descriptions)) if (typeof text !== 'string') return `descriptions.${name} must be text`;
  if (!Array.isArray(add)) return '"add" must be a list of tool names or tool definitions';
  const added: Tool[] = [];
  for (const [index, item] of add.entries()) {
    if (typeof item === 'string') {
      const extra = EXTRA_TOOLS[item];
      if (!extra) return `add[${index}]: no demo tool "${item}" (known: ${Object.keys(EXTRA_TOOLS).join(', ')}); give a whole definition instead`;
      added.push(extra.definition);
    } else if (item && typeof item === 'object' && typeof (item as Tool).name === 'string' && typeof (item as Tool).inputSchema === 'object') {
      added.push(item as Tool);
    } else {
      return `add[${index}] must be a tool name or an object with "name" and "inputSchema"`;
    }
  }
  return { descriptions: descriptions as Record<string, string>, add: added };
}

/** The recorded tools with the changes applied: descriptions replaced, added tools at the end. */
export function applyChanges(recorded: readonly Tool[], changes: ToolChanges): Tool[] {
  const tools = recorded.map((tool) => (changes.descriptions[tool.name] !== undefined ? { ...tool, description: changes.descriptions[tool.name] } : tool));
  for (const tool of changes.add) {
    if (!tools.some((known) => known.name === tool.name)) {
      tools.push(changes.descriptions[tool.name] !== undefined ? { ...tool, description: changes.descriptions[tool.name] } : tool);
    }
  }
  return tools;
}

/**
 * Watches `file` (its folder, so a file that appears later, or is saved by rename, is seen) and
 * calls `onTools` with the tools in force whenever they change. Returns the tools in force now.
 */
export function watchChanges(file: string, recorded: readonly Tool[], onTools: (tools: Tool[]) => void): Tool[] {
  const path = resolve(file);
  const read = (): Tool[] | undefined => {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return [...recorded]; // no file: no changes
    }
    if (text.trim() === '') return [...recorded];
    const changes = parseChanges(text);
    if (typeof changes === 'string') {
      process.stderr.write(`demo fluentcrm-mcp server: ${path}: ${changes}; the tools stay as they are\n`);
      return undefined;
    }
    return applyChanges(recorded, changes);
  };
  const initial = read() ?? [...recorded];
  let current = JSON.stringify(initial);
  let timer: NodeJS.Timeout | undefined;
  const reread = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const tools = read();
      if (!tools || JSON.stringify(tools) === current) return;
      current = JSON.stringify(tools);
      onTools(tools);
    }, 20);
  };
  try {
    const watcher = watch(dirname(path), (_event, name) => {
      if (name === null || name === basename(path)) reread();
    });
    watcher.unref();
  } catch (error) {
    process.stderr.write(`demo fluentcrm-mcp server: cannot watch ${path}: ${(error as Error).message}; SIGUSR2 still reads it\n`);
  }
  process.on('SIGUSR2', reread);
  return initial;
}
