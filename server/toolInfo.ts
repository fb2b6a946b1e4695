import { compileGlob, isObject, type CatalogTool, type ToolCatalog } from '../core';

/** Tool names and globs are the user's text: `*` and `_` in them must not turn into emphasis. */
export function escapeMarkdown(text: string): string {
  // `_` inside a word is no emphasis in CommonMark: only one at a word's edge needs escaping.
  return text.replace(/[\\`*[\]<>~|]/g, '\\$&').replace(/(^|\W)_|_(?=\W|$)/g, (match) => match.replace('_', '\\_'));
}

/** "execute · high" for completion details and hover headers. */
export function riskLabel(tool: CatalogTool): string {
  return `${tool.risk.class} · ${tool.risk.severity}`;
}

function schemaType(schema: unknown): string {
  if (!isObject(schema)) return 'any';
  if (typeof schema.type === 'string') return schema.type === 'array' && isObject(schema.items) ? `${schemaType(schema.items)}[]` : schema.type;
  if (Array.isArray(schema.type)) return schema.type.join(' | ');
  if (Array.isArray(schema.enum)) return schema.enum.map((value) => JSON.stringify(value)).join(' | ');
  return 'any';
}

export interface ArgumentInfo {
  name: string;
  type: string;
  required: boolean;
  description: string | undefined;
}

/** The tool's arguments as its inputSchema declares them. */
export function argumentsOf(tool: CatalogTool): ArgumentInfo[] {
  const properties = isObject(tool.inputSchema.properties) ? tool.inputSchema.properties : {};
  const required = Array.isArray(tool.inputSchema.required) ? tool.inputSchema.required : [];
  return Object.entries(properties).map(([name, schema]) => ({
    name,
    type: schemaType(schema),
    required: required.includes(name),
    description: isObject(schema) && typeof schema.description === 'string' ? schema.description : undefined,
  }));
}

export function argumentLine(argument: ArgumentInfo): string {
  return `- \`${argument.name}\`: ${argument.type}${argument.required ? ' (required)' : ''}${argument.description ? ` — ${argument.description}` : ''}`;
}

/** Markdown for a hover or a completion's documentation. */
export function toolMarkdown(tool: CatalogTool, server: string | undefined): string {
  const lines = [`**${escapeMarkdown(tool.name)}**${server !== undefined ? ` (server \`${server}\`)` : ''}`, ''];
  if (tool.description) lines.push(tool.description, '');
  lines.push(`Risk: **${tool.risk.class}**, ${tool.risk.severity} — ${tool.risk.why}`, '');
  const annotations = Object.entries(tool.annotations ?? {}).map(([key, value]) => `${key}: ${JSON.stringify(value)}`);
  lines.push(`Annotations: ${annotations.length ? annotations.join(', ') : 'none'}`, '');
  const args = argumentsOf(tool);
  if (args.length) lines.push('Arguments:', ...args.map(argumentLine));
  else lines.push('Arguments: none');
  return lines.join('\n');
}

const GLOB_LIST_LIMIT = 30;

/** Markdown naming the catalog tools a glob matches, with their risk. */
export function globMarkdown(pattern: string, catalog: ToolCatalog, server: string | undefined): string {
  const glob = compileGlob(pattern);
  const scope = server !== undefined && catalog.hasServer(server) ? server : undefined;
  const matched: CatalogTool[] = [];
  for (const tool of catalog.toolsFor(scope)) if (glob.matches(tool.name)) matched.push(tool);
  if (catalog.isEmpty) return `**${escapeMarkdown(pattern)}**: no tool catalog is loaded, so the tools it matches are unknown.`;
  if (matched.length === 0) return `**${escapeMarkdown(pattern)}** matches no tool of ${scope !== undefined ? `server \`${scope}\`` : 'the catalog'}.`;
  const lines = [`**${escapeMarkdown(pattern)}** matches ${matched.length} tool${matched.length === 1 ? '' : 's'}:`, ''];
  for (const tool of matched.slice(0, GLOB_LIST_LIMIT)) lines.push(`- \`${tool.name}\` — ${riskLabel(tool)}`);
  if (matched.length > GLOB_LIST_LIMIT) lines.push(`- … and ${matched.length - GLOB_LIST_LIMIT} more`);
  return lines.join('\n');
}
