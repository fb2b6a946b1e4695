/**
 * Quick fixes for an unchecked identifier argument: write a tight schema for it into the
 * rule's `arguments`, touching only what is added (the rule's other keys and comments stay).
 */
import { CodeActionKind, type CodeAction, type Diagnostic, type TextEdit } from 'vscode-languageserver/node';
import { identifierSchema, isObject, type IdentifierShape, type JsonPath, type PolicyDiagnostic } from '../core';
import type { AnalyzedPolicy } from './documents';
import { addPropertiesEdits, setValueEdits } from './edits';
import { workspaceEdit, type CodeActionSettings } from './codeActions';

const SHAPES: readonly IdentifierShape[] = ['digits', 'token', 'path', 'integer'];

const SHAPE_WORDS: Record<IdentifierShape, string> = {
  digits: 'digits only',
  token: 'letters, digits, "-" and "_" only',
  path: 'relative paths without ".."',
  integer: 'whole numbers from 1',
};

function valueAt(root: unknown, path: JsonPath): unknown {
  let value = root;
  for (const segment of path) {
    if (!isObject(value) || typeof segment !== 'string') return undefined;
    value = value[segment];
  }
  return value;
}

/** Edits that give each identifier its schema, merged into what `arguments` already says of it. */
function argumentEdits(policy: AnalyzedPolicy, rule: JsonPath, shapes: ReadonlyArray<readonly [string, IdentifierShape]>): TextEdit[] {
  const document = policy.textDocument;
  const argumentsValue = valueAt(policy.json.value, [...rule, 'arguments']);
  const schemas = shapes.map(([name, shape]) => [name, identifierSchema(shape)] as const);
  if (!isObject(argumentsValue)) return setValueEdits(document, [...rule, 'arguments'], { properties: Object.fromEntries(schemas) }, policy.text);
  const properties = argumentsValue.properties;
  if (!isObject(properties)) return setValueEdits(document, [...rule, 'arguments', 'properties'], Object.fromEntries(schemas), policy.text);
  const missing = schemas.filter(([name]) => !(name in properties));
  const edits: TextEdit[] = missing.length > 0 ? addPropertiesEdits(document, [...rule, 'arguments', 'properties'], missing, policy.text) : [];
  for (const [name, schema] of schemas) {
    const written = properties[name];
    if (!(name in properties)) continue;
    // The rule's own words about the argument stay; the shape is added to them.
    edits.push(...setValueEdits(document, [...rule, 'arguments', 'properties', name], { ...(isObject(written) ? written : {}), ...schema }, policy.text));
  }
  return edits;
}

export function identifierFixes(policy: AnalyzedPolicy, diagnostic: PolicyDiagnostic, shown: Diagnostic, settings: CodeActionSettings): CodeAction[] {
  const raw = diagnostic.data?.identifiers;
  if (!isObject(raw)) return [];
  const shapes = Object.entries(raw).filter((entry): entry is [string, IdentifierShape] => SHAPES.includes(entry[1] as IdentifierShape));
  if (shapes.length === 0) return [];
  const variants: Array<{ title: string; shapes: Array<[string, IdentifierShape]>; preferred: boolean }> = [
    { title: `Allow ${shapes.map(([name, shape]) => `${SHAPE_WORDS[shape]} in ${name}`).join('; ')}`, shapes, preferred: true },
  ];
  // An id may be a number or a token: the other one is a click away.
  const swapped = shapes.map(([name, shape]): [string, IdentifierShape] => [name, shape === 'digits' ? 'token' : shape === 'token' ? 'digits' : shape]);
  if (swapped.some(([, shape], index) => shape !== shapes[index]![1])) {
    variants.push({ title: `Allow ${swapped.map(([name, shape]) => `${SHAPE_WORDS[shape]} in ${name}`).join('; ')}`, shapes: swapped, preferred: false });
  }
  return variants.map((variant) => ({
    title: variant.title,
    kind: CodeActionKind.QuickFix,
    diagnostics: [shown],
    ...(variant.preferred ? { isPreferred: true } : {}),
    edit: workspaceEdit(policy.textDocument, argumentEdits(policy, diagnostic.path, variant.shapes), settings),
  }));
}
