import { findNodeAtOffset, getNodePath, type Node } from 'jsonc-parser';
import { MarkupKind, type Hover } from 'vscode-languageserver/node';
import { isGlobPattern, isSelectorKey, type JsonPath } from '../core';
import { inComment } from './completionEdits';
import { selectorMarkdown } from './selectorInfo';
import type { PolicyContext } from './documents';
import { enclosingRule, hideSection, rulePath, samePath } from './policyPaths';
import { descriptionOf, schemaAt, typeLabel } from './schemaInfo';
import { testCallAt } from './testPaths';
import { argumentLine, argumentsOf, escapeMarkdown, globMarkdown, toolMarkdown } from './toolInfo';

/** Hover on a tool name or glob (rule key, hide entry), an argument name, a server name, or a keyword. */
export function hover(context: PolicyContext, offset: number): Hover | null {
  const root = context.json.root;
  // A comment is the author's prose: like completion (B12), hover says nothing inside one.
  if (!root || inComment(context.text, offset)) return null;
  const node = findNodeAtOffset(root, offset, true);
  if (!node || node.type !== 'string' || typeof node.value !== 'string') return null;
  const property = node.parent?.type === 'property' ? node.parent : undefined;
  const isKey = property !== undefined && property.children?.[0] === node;
  const path = isKey ? [...parentPath(property), node.value] : getNodePath(node);
  const markdown = isKey ? keyMarkdown(context, path, node.value) : valueMarkdown(context, path, node.value);
  if (!markdown) return null;
  const document = context.textDocument;
  return {
    contents: { kind: MarkupKind.Markdown, value: markdown },
    range: { start: document.positionAt(node.offset), end: document.positionAt(node.offset + node.length) },
  };
}

/** Path of the object that holds a property. */
function parentPath(property: Node): JsonPath {
  return property.parent ? getNodePath(property.parent) : [];
}

function keyMarkdown(context: PolicyContext, path: JsonPath, key: string): string | undefined {
  const rule = rulePath(path);
  if (rule) return toolOrGlob(context, key, rule.server);
  if (path.length === 2 && path[0] === 'servers') return serverMarkdown(context, key);
  const inRule = enclosingRule(path);
  if (inRule && inRule.rest.length === 3 && samePath(inRule.rest.slice(0, 2), ['arguments', 'properties'])) return argumentMarkdown(context, inRule.server, inRule.key, key);
  if (inRule && inRule.rest[0] === 'arguments' && inRule.rest.length > 1) return undefined;
  const testCall = testCallAt(path, context.json.value);
  if (testCall?.tool && testCall.rest.length === 2 && testCall.rest[0] === 'arguments') return argumentMarkdown(context, testCall.server, testCall.tool, key);
  const schema = schemaAt(path);
  const description = descriptionOf(schema);
  if (!description) return undefined;
  const type = typeLabel(schema);
  return `**${escapeMarkdown(key)}**${type ? ` (${type})` : ''}\n\n${description}`;
}

function valueMarkdown(context: PolicyContext, path: JsonPath, value: string): string | undefined {
  const last = path[path.length - 1];
  if (typeof last === 'number') {
    const hide = hideSection(path.slice(0, -1));
    if (hide) return toolOrGlob(context, value, hide.server);
    const rule = enclosingRule(path.slice(0, -1));
    if (rule && samePath(rule.rest, ['arguments', 'required'])) return argumentMarkdown(context, rule.server, rule.key, value);
    return undefined;
  }
  // An enum value (an action, a window, a scope) explains itself through its key's description.
  const rule = enclosingRule(path);
  if (rule && rule.rest[0] === 'arguments') return undefined;
  const testCall = testCallAt(path, context.json.value);
  if (testCall && samePath(testCall.rest, ['tool'])) return toolOrGlob(context, value, testCall.server);
  const schema = schemaAt(path);
  const description = descriptionOf(schema);
  return description && typeof last === 'string' ? `**${escapeMarkdown(last)}**: \`${JSON.stringify(value)}\`\n\n${description}` : undefined;
}

function toolOrGlob(context: PolicyContext, name: string, server: string | undefined): string | undefined {
  const catalog = context.catalog;
  if (isSelectorKey(name)) return selectorMarkdown(name, catalog, server);
  if (isGlobPattern(name)) return globMarkdown(name, catalog, server);
  if (catalog.isEmpty) return `**${escapeMarkdown(name)}**\n\nNo tool catalog is loaded: run \`mcp-policy catalog\` to write \`mcp-policy.catalog.json\` beside this policy.`;
  const scope = server !== undefined && catalog.hasServer(server) ? server : undefined;
  const tool = catalog.find(name, scope);
  if (!tool) return `**${escapeMarkdown(name)}**\n\nNot in ${scope !== undefined ? `server \`${scope}\`'s tools` : 'the tool catalog'}.`;
  const owner = scope ?? firstServerOf(context, name);
  return toolMarkdown(tool, owner);
}

function firstServerOf(context: PolicyContext, name: string): string | undefined {
  for (const server of context.catalog.serverNames()) if (context.catalog.find(name, server)) return server;
  return undefined;
}

function serverMarkdown(context: PolicyContext, server: string): string {
  const catalog = context.catalog;
  const description = descriptionOf(schemaAt(['servers', server])) ?? '';
  if (!catalog.hasServer(server)) return `**${escapeMarkdown(server)}**\n\n${description}\n\nThe tool catalog has no server of this name.`;
  let count = 0;
  for (const _tool of catalog.toolsFor(server)) count++;
  return `**${escapeMarkdown(server)}**: ${count} tool${count === 1 ? '' : 's'} in the catalog\n\n${description}`;
}

function argumentMarkdown(context: PolicyContext, server: string | undefined, toolName: string, argument: string): string | undefined {
  const catalog = context.catalog;
  const tool = catalog.find(toolName, server !== undefined && catalog.hasServer(server) ? server : undefined);
  if (!tool) return undefined;
  const info = argumentsOf(tool).find((candidate) => candidate.name === argument);
  if (!info) return `\`${argument}\` is not an argument of **${escapeMarkdown(tool.name)}**.`;
  return `Argument of **${escapeMarkdown(tool.name)}**\n\n${argumentLine(info)}`;
}
