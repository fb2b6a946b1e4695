/**
 * Identifier arguments of risky tools: a string id, slug or path that a server splices into a
 * URL or a file path carries an injection (`campaignId: "../../../wp/v2/users/1?x="`) past any
 * limit. An execute or destructive tool allowed with such an argument free is unchecked until
 * the rule's `arguments` gives it a shape.
 */
import type { CatalogTool, ToolCatalog } from './catalog';
import { DiagnosticCode, type PolicyDiagnostic } from './diagnostic';
import type { JsonDocument } from './document';
import type { JsonPath } from './jsonPath';
import type { Rule } from './model';
import type { ToolOutcome } from './planChecks';
import { isRisky, nameWords } from './risk';
import { isObject } from './sanitize';

/** Last words of argument names that identify something the server looks up or opens. */
const IDENTIFIER_WORDS = new Set(['id', 'uuid', 'guid', 'slug', 'path', 'filepath', 'filename', 'file', 'dir', 'directory', 'folder', 'handle', 'ref']);
const PATH_WORDS = new Set(['path', 'filepath', 'filename', 'file', 'dir', 'directory', 'folder']);

/**
 * Formats that still admit `../` and `?`: a schema with one of these constrains nothing that
 * matters here. `maxLength` alone does not count either: "../1" is short.
 */
const PERMISSIVE_FORMATS = new Set(['uri-reference', 'iri-reference', 'uri-template', 'json-pointer', 'relative-json-pointer', 'regex']);

export const DIGITS_PATTERN = '^[0-9]+$';
export const TOKEN_PATTERN = '^[A-Za-z0-9_-]+$';
/** Relative paths of plain names, with no `..` segment and no leading `/`. */
export const RELATIVE_PATH_PATTERN = '^(?!.*\\.\\.)[A-Za-z0-9_-][A-Za-z0-9._/-]*$';

/** A glob can allow thousands of tools: the message names the first few. */
const TOOLS_NAMED = 5;

export type IdentifierShape = 'digits' | 'token' | 'path' | 'integer';

export interface UncheckedIdentifier {
  name: string;
  /** The shape the quick fix offers first. */
  shape: IdentifierShape;
}

/** Argument names repeat across a catalog's tools: each is split into words once. */
const identifierNames = new Map<string, boolean>();
const NAME_CACHE_LIMIT = 10000;

export function isIdentifierName(name: string): boolean {
  const known = identifierNames.get(name);
  if (known !== undefined) return known;
  const words = nameWords(name);
  const last = words[words.length - 1];
  const identifier = last !== undefined && IDENTIFIER_WORDS.has(last);
  if (identifierNames.size >= NAME_CACHE_LIMIT) identifierNames.clear();
  identifierNames.set(name, identifier);
  return identifier;
}

function types(schema: Record<string, unknown>): string[] {
  if (typeof schema.type === 'string') return [schema.type];
  return Array.isArray(schema.type) ? schema.type.filter((type): type is string => typeof type === 'string') : [];
}

/** A schema that pins a string down: a pattern, a closed set, or a format that admits no path. */
function constrainsString(schema: Record<string, unknown>): boolean {
  if (typeof schema.pattern === 'string' || Array.isArray(schema.enum) || 'const' in schema) return true;
  if (typeof schema.format === 'string' && !PERMISSIVE_FORMATS.has(schema.format)) return true;
  const written = types(schema);
  // A rule saying "integer" or "number" alone makes a string argument invalid.
  return written.length > 0 && !written.includes('string');
}

function propertySchema(schema: Record<string, unknown> | undefined, name: string): Record<string, unknown> | undefined {
  const properties = schema?.properties;
  if (!isObject(properties)) return undefined;
  const property = properties[name];
  return isObject(property) ? property : undefined;
}

/** The shape an argument likely has: ids described as numbers take digits, paths take relative paths. */
function shapeOf(name: string, schema: Record<string, unknown>): IdentifierShape {
  const written = types(schema);
  if (written.length > 0 && !written.includes('string') && written.some((type) => type === 'integer' || type === 'number')) return 'integer';
  const words = nameWords(name);
  if (PATH_WORDS.has(words[words.length - 1] ?? '')) return 'path';
  const description = typeof schema.description === 'string' ? schema.description : '';
  return /\b(numeric|number|integer|digits)\b/i.test(description) || written.includes('integer') || written.includes('number') ? 'digits' : 'token';
}

/**
 * The identifier arguments of `tool` that nothing checks under `rule`: the tool's own schema
 * does not constrain them (or is not enforced, `validate_input: false`) and the rule's
 * `arguments` says nothing about them. Pure: the rule and the tool decide.
 */
export function uncheckedIdentifiers(rule: Rule, tool: CatalogTool, inputSchemaChecked: boolean): UncheckedIdentifier[] {
  const properties = tool.inputSchema.properties;
  if (!isObject(properties)) return [];
  const found: UncheckedIdentifier[] = [];
  const names = Object.keys(properties);
  for (let index = 0; index < names.length; index++) {
    const name = names[index]!;
    const raw = properties[name];
    if (!isObject(raw) || !isIdentifierName(name)) continue;
    const declared = types(raw);
    // Arrays and objects of ids are not spliced whole; a schema with no type is as free as a string.
    if (declared.length > 0 && !declared.some((type) => type === 'string' || type === 'integer' || type === 'number')) continue;
    if (inputSchemaChecked && constrainsString(raw)) continue;
    const own = propertySchema(rule.arguments, name);
    if (own && constrainsString(own)) continue;
    found.push({ name, shape: shapeOf(name, raw) });
  }
  return found;
}

/** The `arguments` property schema a quick fix writes for an identifier of this shape. */
export function identifierSchema(shape: IdentifierShape): Record<string, unknown> {
  if (shape === 'integer') return { type: 'integer', minimum: 1 };
  if (shape === 'digits') return { type: 'string', pattern: DIGITS_PATTERN };
  if (shape === 'path') return { type: 'string', pattern: RELATIVE_PATH_PATTERN };
  return { type: 'string', pattern: TOKEN_PATTERN };
}

export interface DecidedTool {
  tool: CatalogTool;
  /** The tool's input schema is enforced for calls this rule allows (validation by default). */
  inputSchemaChecked: boolean;
}

/**
 * One rule's diagnostic: every risky tool it allows whose identifiers nothing checks. Pure in
 * the rule and the tools it decides, so that a per-rule cache can keep it.
 */
export function identifierDiagnosticForRule(document: JsonDocument, path: JsonPath, rule: Rule, decided: readonly DecidedTool[]): PolicyDiagnostic | undefined {
  if ((rule.action ?? 'allow') !== 'allow') return undefined;
  const tools: Array<{ tool: string; identifiers: UncheckedIdentifier[] }> = [];
  for (const { tool, inputSchemaChecked } of decided) {
    if (!isRisky(tool.risk)) continue;
    const identifiers = uncheckedIdentifiers(rule, tool, inputSchemaChecked);
    if (identifiers.length > 0) tools.push({ tool: tool.name, identifiers });
  }
  if (tools.length === 0) return undefined;
  const names = [...new Set(tools.flatMap((entry) => entry.identifiers.map((identifier) => identifier.name)))];
  const listed = tools.slice(0, TOOLS_NAMED).map((entry) => entry.tool).join(', ');
  const subject = tools.length === 1 ? tools[0]!.tool : `${tools.length} risky tools (${listed}${tools.length > TOOLS_NAMED ? `, and ${tools.length - TOOLS_NAMED} more` : ''})`;
  const argumentWords = names.map((name) => `"${name}"`).join(', ');
  return {
    code: DiagnosticCode.uncheckedIdentifier,
    severity: 'warning',
    message: `allows ${subject} with ${names.length === 1 ? 'the identifier' : 'the identifiers'} ${argumentWords} unchecked: any string passes (a value like "../../../wp/v2/users/1?x=" can reach another address on the server), whatever the limits; give ${names.length === 1 ? 'it' : 'them'} a shape in "arguments", or set "action" to "approve" or "deny"`,
    range: document.rangeOf(path, 'key'),
    path,
    data: { identifiers: Object.fromEntries(names.map((name) => [name, tools.flatMap((entry) => entry.identifiers).find((identifier) => identifier.name === name)!.shape])) },
  };
}

/**
 * The rules of the policy with the risky catalog tools each one allows, as the plan checks
 * resolved them (planChecks.ts keeps that across edits, so this costs a pass over the outcomes).
 */
export function checkIdentifierArguments(document: JsonDocument, catalog: ToolCatalog, outcomes: ReadonlyMap<string, ReadonlyMap<string, ToolOutcome>>, out: PolicyDiagnostic[]): void {
  const byRule = new Map<string, { path: JsonPath; rule: Rule; decided: DecidedTool[]; seen: Set<CatalogTool> }>();
  // forEach, not for…of: no entry or step object per tool in code not yet optimized (ownRecord.ts).
  outcomes.forEach((byTool, server) => {
    const scope = catalog.hasServer(server) ? server : undefined;
    byTool.forEach((outcome, name) => {
      const allowed = outcome.allowedRisky;
      if (!allowed) return;
      const tool = catalog.find(name, scope);
      if (!tool) return;
      const entry = byRule.get(allowed.pathText) ?? { path: allowed.path, rule: allowed.rule, decided: [], seen: new Set<CatalogTool>() };
      // A tool reached through several servers is one tool of the rule.
      if (!entry.seen.has(tool)) {
        entry.seen.add(tool);
        entry.decided.push({ tool, inputSchemaChecked: allowed.inputSchemaChecked });
      }
      byRule.set(allowed.pathText, entry);
    });
  });
  for (const { path, rule, decided } of byRule.values()) {
    const diagnostic = identifierDiagnosticForRule(document, path, rule, decided);
    if (diagnostic) out.push(diagnostic);
  }
}
