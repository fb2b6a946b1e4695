import type { Node } from 'jsonc-parser';
import { SymbolKind, type DocumentSymbol } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { PolicyContext } from './documents';

/**
 * The outline: top-level sections, each rule (with its action), each server (with its rules,
 * hide list and limits) and each limit ("10 per minute").
 */
export function documentSymbols(context: PolicyContext): DocumentSymbol[] {
  const root = context.json.root;
  if (root?.type !== 'object') return [];
  const document = context.textDocument;
  return properties(root).map(([key, value, property]) => {
    if (key === 'tools') return symbol(document, key, 'rules', SymbolKind.Namespace, property, ruleSymbols(document, value));
    if (key === 'servers') return symbol(document, key, '', SymbolKind.Namespace, property, serverSymbols(document, value));
    if (key === 'all_tools') return symbol(document, key, '', SymbolKind.Object, property, limitSymbols(document, child(value, 'limits')));
    return symbol(document, key, valueDetail(value), kindOf(value), property, []);
  });
}

type Entry = [string, Node, Node];

function properties(node: Node | undefined): Entry[] {
  if (node?.type !== 'object') return [];
  const entries: Entry[] = [];
  for (const property of node.children ?? []) {
    const [key, value] = property.children ?? [];
    if (key && value && typeof key.value === 'string') entries.push([key.value, value, property]);
  }
  return entries;
}

function child(node: Node | undefined, name: string): Node | undefined {
  return properties(node).find(([key]) => key === name)?.[1];
}

function ruleSymbols(document: TextDocument, tools: Node): DocumentSymbol[] {
  return properties(tools).map(([key, rule, property]) => {
    const action = child(rule, 'action');
    const detail = typeof action?.value === 'string' ? action.value : rule.type === 'object' ? 'allow' : '';
    return symbol(document, key, detail, SymbolKind.Function, property, limitSymbols(document, child(rule, 'limits')));
  });
}

function serverSymbols(document: TextDocument, servers: Node): DocumentSymbol[] {
  return properties(servers).map(([name, server, property]) => {
    const children: DocumentSymbol[] = [];
    for (const [key, value, inner] of properties(server)) {
      if (key === 'tools') children.push(symbol(document, key, 'rules', SymbolKind.Namespace, inner, ruleSymbols(document, value)));
      else if (key === 'all_tools') children.push(symbol(document, key, '', SymbolKind.Object, inner, limitSymbols(document, child(value, 'limits'))));
      else children.push(symbol(document, key, valueDetail(value), kindOf(value), inner, []));
    }
    return symbol(document, name, 'server', SymbolKind.Module, property, children);
  });
}

function limitSymbols(document: TextDocument, limits: Node | undefined): DocumentSymbol[] {
  if (limits?.type !== 'array') return [];
  return (limits.children ?? []).map((limit, index) => {
    const max = child(limit, 'max')?.value;
    const window = child(limit, 'window')?.value;
    const counter = child(limit, 'counter')?.value;
    const name = `${String(max ?? '?')} per ${typeof window === 'number' ? `${window} s` : String(window ?? '?')}`;
    return symbol(document, name, typeof counter === 'string' ? `counter ${counter}` : `limit ${index}`, SymbolKind.Event, limit, []);
  });
}

function valueDetail(value: Node): string {
  if (value.type === 'array') return `${value.children?.length ?? 0} items`;
  if (value.type === 'object') return '';
  return value.value === undefined ? '' : String(value.value);
}

function kindOf(value: Node): SymbolKind {
  switch (value.type) {
    case 'array':
      return SymbolKind.Array;
    case 'object':
      return SymbolKind.Object;
    case 'number':
      return SymbolKind.Number;
    case 'boolean':
      return SymbolKind.Boolean;
    default:
      return SymbolKind.String;
  }
}

function symbol(document: TextDocument, name: string, detail: string, kind: SymbolKind, node: Node, children: DocumentSymbol[]): DocumentSymbol {
  const range = { start: document.positionAt(node.offset), end: document.positionAt(node.offset + node.length) };
  const key = node.type === 'property' ? node.children?.[0] : undefined;
  const selectionRange = key ? { start: document.positionAt(key.offset), end: document.positionAt(key.offset + key.length) } : range;
  // Editors reject empty names.
  return { name: name.length > 0 ? name : '""', detail, kind, range, selectionRange, children };
}
