import { findNodeAtLocation, getLocation, type Node } from 'jsonc-parser';
import { CompletionItemKind, InsertTextFormat, MarkupKind, type CompletionItem, type CompletionList } from 'vscode-languageserver/node';
import { inComment, nextSignificant, stringEdit, tokenAt, tokenEdit, valueEndBefore, type CompletionSettings, type EditRequest } from './completionEdits';
import type { CatalogTool, JsonPath, ToolCatalog } from '../core';
import type { PolicyContext } from './documents';
import { enclosingRule, hideSection, isLimitsArray, rulePath, rulesSection, samePath } from './policyPaths';
import { descriptionOf, enumValues, propertiesOf, schemaAt, typeLabel, type SchemaNode } from './schemaInfo';
import { testCallAt } from './testPaths';
import { argumentsOf, riskLabel, toolMarkdown } from './toolInfo';
import { selectorCompletionItems } from './selectorInfo';

/** Above this many candidates the list is filtered here and marked incomplete, so that every keystroke stays cheap. */
const FULL_LIST_LIMIT = 1000;
const FILTERED_LIST_LIMIT = 200;

interface Request extends EditRequest {
  context: PolicyContext;
  /** Text that goes after an inserted key: nothing when a `:` already follows, a comma when another property does. */
  keySuffix: 'none' | 'value' | 'value,';
  /** An array entry goes before another one: it needs a comma after it. */
  entrySuffix: '' | ',';
}

export type { CompletionSettings } from './completionEdits';

export function complete(context: PolicyContext, offset: number, settings: CompletionSettings): CompletionList {
  // getLocation recurses as deep as the text nests: such a text has its error and no completion.
  if (context.json.tooDeep || inComment(context.text, offset)) return list([]);
  const location = getLocation(context.text, offset);
  const token = tokenAt(context.text, offset, location.previousNode);
  const next = nextSignificant(context.text, token.end);
  const missingComma = valueEndBefore(context.text, token.start);
  const request: Request = {
    context,
    document: context.textDocument,
    offset,
    token,
    settings,
    keySuffix: next === ':' ? 'none' : next === '"' ? 'value,' : 'value',
    entrySuffix: /["{[0-9tfn-]/.test(next) ? ',' : '',
  };
  let path = location.path;
  let atKey = location.isAtPropertyKey;
  // `"action": "allow" |` — a comma is missing: the cursor starts the next property (or array item), not the value before it.
  if (missingComma >= 0) {
    const last = path[path.length - 1];
    if (typeof last === 'number') path = [...path.slice(0, -1), last + 1];
    else if (!atKey) {
      atKey = true;
      path = location.previousNode?.type === 'property' ? path : [...path.slice(0, -1), ''];
    }
  }
  const result = atKey ? keyCompletions(request, path.slice(0, -1)) : valueCompletions(request, path);
  if (missingComma >= 0) {
    const at = context.textDocument.positionAt(missingComma);
    for (const item of result.items) item.additionalTextEdits = [{ range: { start: at, end: at }, newText: ',' }, ...(item.additionalTextEdits ?? [])];
  }
  return result;
}

// ---- keys -------------------------------------------------------------------------------

function keyCompletions(request: Request, parent: JsonPath): CompletionList {
  const existing = existingKeys(request, parent);
  const section = rulesSection(parent);
  if (section) {
    const list = toolItems(request, section.server, existing, 'key');
    list.items.push(...selectorCompletionItems(request.context.catalog, section.server, existing, (label, detail, documentation) => keyItem(request, label, request.settings.snippets ? '{$0}' : '{}', CompletionItemKind.Class, detail, documentation)));
    // Only before a name is typed: once it is, the snippet would outrank the tools it matches.
    if (request.settings.snippets && request.token.typed === '') list.items.push(snippetItem(request, 'new rule', 'a rule for a tool name or a glob', '"${1:tool_name}": {\n\t"action": "${2|allow,deny,approve|}"$0\n}'));
    return list;
  }
  if (samePath(parent, ['servers'])) return serverItems(request, existing);
  const rule = enclosingRule(parent);
  if (rule && samePath(rule.rest, ['arguments', 'properties'])) return argumentItems(request, rule.server, rule.key, existing, 'key');
  // The rest of `arguments` is a JSON Schema of the user's own: nothing to offer from ours.
  if (rule && rule.rest[0] === 'arguments') return list([]);
  const testCall = testCallAt(parent, request.context.json.value);
  if (testCall && samePath(testCall.rest, ['arguments'])) return testCall.tool ? argumentItems(request, testCall.server, testCall.tool, existing, 'call') : list([]);
  const items = propertiesOf(schemaAt(parent))
    .filter((property) => !existing.has(property.name))
    .map((property): CompletionItem => {
      const value = valueTemplate(property.name, property.schema, request.settings.snippets);
      return keyItem(request, property.name, value, CompletionItemKind.Property, typeLabel(property.schema), descriptionOf(property.schema));
    });
  return list(items);
}

/** Keys already in the object, except the one under the cursor. */
function existingKeys(request: Request, parent: JsonPath): Set<string> {
  const keys = new Set<string>();
  const root = request.context.json.root;
  const node = root && findNodeAtLocation(root, [...parent]);
  for (const property of node?.type === 'object' ? (node.children ?? []) : []) {
    const key = property.children?.[0];
    if (!key || typeof key.value !== 'string') continue;
    if (key.offset <= request.offset && request.offset <= key.offset + key.length) continue;
    keys.add(key.value);
  }
  return keys;
}

function keyItem(request: Request, name: string, value: string, kind: CompletionItemKind, detail: string, documentation: string | undefined): CompletionItem {
  const after = request.keySuffix === 'none' ? '' : `: ${value}${request.keySuffix === 'value,' ? ',' : ''}`;
  const { snippet, ...edit } = stringEdit(request, name, after, request.settings.snippets);
  return {
    label: name,
    kind,
    detail,
    ...(documentation ? { documentation: { kind: MarkupKind.Markdown, value: documentation } } : {}),
    ...edit,
    insertTextFormat: snippet ? InsertTextFormat.Snippet : InsertTextFormat.PlainText,
  };
}

function snippetItem(request: Request, label: string, detail: string, snippet: string): CompletionItem {
  return {
    label,
    kind: CompletionItemKind.Snippet,
    detail,
    sortText: `~${label}`,
    ...tokenEdit(request, request.keySuffix === 'value,' ? `${snippet},` : snippet, request.token.quoted ? `"${request.token.typed}` : request.token.typed),
    insertTextFormat: InsertTextFormat.Snippet,
  };
}

const LIMIT_SNIPPET = '{ "window": "${1|minute,second,hour,day|}", "max": ${2:10}, "scope": "${3|grant,session,global|}" }';
const LIMIT_PLAIN = '{ "window": "minute", "max": 10, "scope": "grant" }';

/** The value inserted after a key, from the property's schema. */
function valueTemplate(name: string, schema: SchemaNode, snippets: boolean): string {
  if (name === 'limits') return snippets ? `[${LIMIT_SNIPPET}]` : `[${LIMIT_PLAIN}]`;
  const values = enumValues(schema);
  if (values.length > 0) {
    // Writing a boolean key is turning it on: its default is off.
    const first = schema.type === 'boolean' ? true : schema.default;
    const preferred = first !== undefined && values.includes(first) ? [first, ...values.filter((value) => value !== first)] : values;
    if (!snippets || values.length === 1) return JSON.stringify(preferred[0]);
    const strings = preferred.every((value) => typeof value === 'string');
    const choice = `\${1|${preferred.map((value) => String(value)).join(',')}|}`;
    return strings ? `"${choice}"` : choice;
  }
  switch (schema.type) {
    case 'string':
      return snippets ? '"$1"' : '""';
    case 'integer':
    case 'number':
      return snippets ? `\${1:${typeof schema.default === 'number' ? schema.default : 1}}` : String(schema.default ?? 1);
    case 'array':
      return snippets ? '[$1]' : '[]';
    default:
      return snippets ? '{$1}' : '{}';
  }
}

// ---- tools, servers, arguments -----------------------------------------------------------

interface Candidate {
  tool: CatalogTool;
  server: string | undefined;
}

/** Per catalog and server: a catalog is immutable, and listing 10,000 tools per keystroke is not free. */
const candidateCache = new WeakMap<ToolCatalog, Map<string, Candidate[]>>();

/** Catalog tools a key or a hide entry can name: the server's own under `servers.S`, all of them elsewhere. */
function catalogCandidates(catalog: ToolCatalog, server: string | undefined): Candidate[] {
  const scope = server !== undefined && catalog.hasServer(server) ? server : undefined;
  let byServer = candidateCache.get(catalog);
  if (!byServer) {
    byServer = new Map();
    candidateCache.set(catalog, byServer);
  }
  const key = scope ?? '\u0000all';
  let candidates = byServer.get(key);
  if (candidates) return candidates;
  candidates = [];
  if (scope !== undefined) {
    for (const tool of catalog.toolsFor(scope)) candidates.push({ tool, server: scope });
  } else {
    const seen = new Set<string>();
    for (const entry of catalog.entries()) {
      if (seen.has(entry.tool.name)) continue;
      seen.add(entry.tool.name);
      candidates.push({ tool: entry.tool, server: entry.server });
    }
  }
  byServer.set(key, candidates);
  return candidates;
}

function toolCandidates(catalog: ToolCatalog, server: string | undefined, exclude: ReadonlySet<string>): Candidate[] {
  const all = catalogCandidates(catalog, server);
  return exclude.size === 0 ? all : all.filter((candidate) => !exclude.has(candidate.tool.name));
}

/** Cuts a long list down to what matches the typed text (prefix matches first). */
function narrow<T>(candidates: T[], typed: string, name: (candidate: T) => string): { items: T[]; incomplete: boolean } {
  if (candidates.length <= FULL_LIST_LIMIT) return { items: candidates, incomplete: false };
  const needle = typed.toLowerCase();
  const prefix: T[] = [];
  const inside: T[] = [];
  for (const candidate of candidates) {
    const lower = name(candidate).toLowerCase();
    if (lower.startsWith(needle)) prefix.push(candidate);
    else if (needle.length > 0 && lower.includes(needle)) inside.push(candidate);
    if (prefix.length >= FILTERED_LIST_LIMIT) break;
  }
  return { items: [...prefix, ...inside].slice(0, FILTERED_LIST_LIMIT), incomplete: true };
}

function toolItems(request: Request, server: string | undefined, exclude: ReadonlySet<string>, as: 'key' | 'value'): CompletionList {
  const { items, incomplete } = narrow(toolCandidates(request.context.catalog, server, exclude), request.token.typed, (candidate) => candidate.tool.name);
  return list(
    items.map(({ tool, server: owner }) => {
      const detail = `${riskLabel(tool)}${owner !== undefined ? ` — ${owner}` : ''}`;
      const documentation = toolMarkdown(tool, owner);
      return as === 'key'
        ? keyItem(request, tool.name, request.settings.snippets ? '{$0}' : '{}', CompletionItemKind.Function, detail, documentation)
        : valueItem(request, tool.name, CompletionItemKind.Function, detail, documentation, request.entrySuffix);
    }),
    incomplete,
  );
}

function serverItems(request: Request, existing: ReadonlySet<string>): CompletionList {
  const catalog = request.context.catalog;
  const items = catalog
    .serverNames()
    .filter((name) => !existing.has(name))
    .map((name) => {
      let count = 0;
      for (const _tool of catalog.toolsFor(name)) count++;
      const value = request.settings.snippets ? '{\n\t"default": "${1|deny,allow,approve|}",\n\t"tools": {$0}\n}' : '{ "tools": {} }';
      return keyItem(request, name, value, CompletionItemKind.Module, `server with ${count} tools in the catalog`, undefined);
    });
  if (request.settings.snippets) {
    items.push(snippetItem(request, 'new server', 'an upstream server started over stdio', '"${1:name}": {\n\t"upstream": { "command": "${2:node}", "args": [$3] },\n\t"default": "${4|deny,allow,approve|}",\n\t"tools": {$0}\n}'));
  }
  return list(items);
}

/** `call`: a key of a test call's arguments, with a value of the argument's type. */
function argumentItems(request: Request, server: string | undefined, toolName: string, exclude: ReadonlySet<string>, as: 'key' | 'value' | 'call'): CompletionList {
  const catalog = request.context.catalog;
  const tool = catalog.find(toolName, server !== undefined && catalog.hasServer(server) ? server : undefined);
  if (!tool) return list([]);
  const items = argumentsOf(tool)
    .filter((argument) => !exclude.has(argument.name))
    .map((argument) => {
      const detail = `${argument.type}${argument.required ? ' (required)' : ''}`;
      if (as === 'value') return valueItem(request, argument.name, CompletionItemKind.Field, detail, argument.description, request.entrySuffix);
      if (as === 'call') return keyItem(request, argument.name, ARGUMENT_VALUE[argument.type] ?? 'null', CompletionItemKind.Field, detail, argument.description);
      const type = /^[a-z]+$/.test(argument.type) ? `{ "type": "${argument.type}"${request.settings.snippets ? '$0' : ''} }` : request.settings.snippets ? '{$0}' : '{}';
      return keyItem(request, argument.name, type, CompletionItemKind.Field, detail, argument.description);
    });
  return list(items);
}

const ARGUMENT_VALUE: Record<string, string> = { string: '""', number: '0', integer: '0', boolean: 'false', array: '[]', object: '{}' };

// ---- values -------------------------------------------------------------------------------

function valueCompletions(request: Request, path: JsonPath): CompletionList {
  const last = path[path.length - 1];
  const parent = path.slice(0, -1);
  if (typeof last === 'number') {
    const hide = hideSection(parent);
    if (hide) return toolItems(request, hide.server, siblingStrings(request, parent), 'value');
    if (isLimitsArray(parent)) return list([limitItem(request)]);
    const rule = enclosingRule(parent);
    if (rule && samePath(rule.rest, ['arguments', 'required'])) return argumentItems(request, rule.server, rule.key, siblingStrings(request, parent), 'value');
  }
  if (last === 'counter' && typeof parent[parent.length - 1] === 'number' && isLimitsArray(parent.slice(0, -1))) return counterItems(request);
  if (rulePath(path)) return list(ruleValueItems(request));
  const rule = enclosingRule(path);
  if (rule && rule.rest[0] === 'arguments') return list([]);
  const testCall = testCallAt(path, request.context.json.value);
  if (testCall && samePath(testCall.rest, ['tool'])) return toolItems(request, testCall.server, new Set(), 'value');
  const schema = schemaAt(path);
  const description = descriptionOf(schema);
  return list(enumValues(schema).map((value) => valueItem(request, value, CompletionItemKind.EnumMember, typeLabel(schema), description)));
}

function valueItem(request: Request, value: unknown, kind: CompletionItemKind, detail: string, documentation: string | undefined, after = ''): CompletionItem {
  const text = JSON.stringify(value);
  const edit = typeof value === 'string' ? stringEdit(request, value, after, false) : { ...tokenEdit(request, `${text}${after}`, text), snippet: false };
  const { snippet: _plain, ...fields } = edit;
  return {
    label: typeof value === 'string' ? value : text,
    kind,
    detail,
    ...(documentation ? { documentation: { kind: MarkupKind.Markdown, value: documentation } } : {}),
    ...fields,
    insertTextFormat: InsertTextFormat.PlainText,
  };
}

function limitItem(request: Request): CompletionItem {
  return {
    label: 'limit',
    kind: CompletionItemKind.Snippet,
    detail: '10 calls per minute for each client credential',
    documentation: { kind: MarkupKind.Markdown, value: descriptionOf(schemaAt(['all_tools', 'limits', 0])) ?? '' },
    ...tokenEdit(request, `${request.settings.snippets ? LIMIT_SNIPPET : LIMIT_PLAIN}${request.entrySuffix}`),
    insertTextFormat: request.settings.snippets ? InsertTextFormat.Snippet : InsertTextFormat.PlainText,
  };
}

function ruleValueItems(request: Request): CompletionItem[] {
  const choices: Array<[string, string, string]> = [
    ['{}', 'allow', 'allows the tool'],
    ['{ "action": "approve" }', 'approve', 'asks a person before each call'],
    ['{ "action": "deny" }', 'deny', 'refuses every call'],
  ];
  return choices.map(([text, label, detail]) => ({
    label: text,
    kind: CompletionItemKind.Value,
    detail: `${label}: ${detail}`,
    ...tokenEdit(request, text),
  }));
}

/** Counter names written anywhere in the file, so that limits can share a budget by name. */
function counterItems(request: Request): CompletionList {
  const names = new Map<string, number>();
  const visit = (node: Node | undefined): void => {
    if (!node) return;
    if (node.type === 'property') {
      const [key, value] = node.children ?? [];
      const underCursor = value !== undefined && value.offset <= request.offset && request.offset <= value.offset + value.length;
      if (key?.value === 'counter' && value?.type === 'string' && typeof value.value === 'string' && value.value.length > 0 && !underCursor) {
        names.set(value.value, (names.get(value.value) ?? 0) + 1);
      }
    }
    for (const child of node.children ?? []) visit(child);
  };
  visit(request.context.json.root);
  return list([...names].map(([name, uses]) => valueItem(request, name, CompletionItemKind.Variable, `counter used ${uses} time${uses === 1 ? '' : 's'}`, undefined)));
}

/** Strings already in an array (hide, required), so they are not offered twice. */
function siblingStrings(request: Request, arrayPath: JsonPath): Set<string> {
  const root = request.context.json.root;
  const node = root && findNodeAtLocation(root, [...arrayPath]);
  const values = new Set<string>();
  for (const item of node?.type === 'array' ? (node.children ?? []) : []) {
    if (item.type === 'string' && typeof item.value === 'string' && !(item.offset <= request.offset && request.offset <= item.offset + item.length)) values.add(item.value);
  }
  return values;
}

function list(items: CompletionItem[], isIncomplete = false): CompletionList {
  return { isIncomplete, items };
}
