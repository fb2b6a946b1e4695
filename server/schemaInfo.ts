import { policySchema, isObject, type JsonPath } from '../core';

/** A node of schemas/policy.schema.json with its `$ref` followed. */
export type SchemaNode = Record<string, unknown>;

const root = policySchema as unknown as SchemaNode;

/** Follows `$ref`; the referring node's own keys (its description, its default) win over the target's. */
export function resolveSchema(node: SchemaNode): SchemaNode {
  let current = node;
  for (let depth = 0; depth < 8 && typeof current.$ref === 'string'; depth++) {
    const target = lookupRef(current.$ref);
    if (!target) break;
    const { $ref: _ignored, ...own } = current;
    current = { ...target, ...own };
  }
  return current;
}

function lookupRef(ref: string): SchemaNode | undefined {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = root;
  for (const part of ref.slice(2).split('/')) node = isObject(node) ? node[part] : undefined;
  return isObject(node) ? node : undefined;
}

/**
 * The schema that governs the value at `path`, or undefined where the policy schema says
 * nothing (inside a rule's `arguments`, which is a free JSON Schema of its own).
 */
export function schemaAt(path: JsonPath): SchemaNode | undefined {
  let node: SchemaNode | undefined = root;
  for (const segment of path) {
    if (!node) return undefined;
    const resolved = resolveSchema(node);
    if (typeof segment === 'number') {
      node = isObject(resolved.items) ? resolved.items : undefined;
      continue;
    }
    const properties = isObject(resolved.properties) ? resolved.properties : undefined;
    const named = properties?.[segment];
    if (isObject(named)) node = named;
    else node = isObject(resolved.additionalProperties) ? resolved.additionalProperties : undefined;
  }
  return node ? resolveSchema(node) : undefined;
}

export interface SchemaProperty {
  name: string;
  schema: SchemaNode;
}

/** Declared properties of an object schema, in the order the schema lists them. */
export function propertiesOf(node: SchemaNode | undefined): SchemaProperty[] {
  if (!node || !isObject(node.properties)) return [];
  return Object.entries(node.properties)
    .filter((entry): entry is [string, SchemaNode] => isObject(entry[1]))
    .map(([name, schema]) => ({ name, schema: resolveSchema(schema) }));
}

/** Values an enum, a const or an anyOf of enums allows (windows: second…day). */
export function enumValues(node: SchemaNode | undefined): unknown[] {
  if (!node) return [];
  if (Array.isArray(node.enum)) return node.enum;
  if ('const' in node) return [node.const];
  const values: unknown[] = [];
  for (const branch of [...(Array.isArray(node.anyOf) ? node.anyOf : []), ...(Array.isArray(node.oneOf) ? node.oneOf : [])]) {
    if (isObject(branch)) values.push(...enumValues(resolveSchema(branch)));
  }
  if (node.type === 'boolean') values.push(true, false);
  return values;
}

export function descriptionOf(node: SchemaNode | undefined): string | undefined {
  return node && typeof node.description === 'string' ? node.description : undefined;
}

/** The schema's `type`, or "enum"/"window" style hints for the detail column of a completion. */
export function typeLabel(node: SchemaNode | undefined): string {
  if (!node) return '';
  if (Array.isArray(node.enum)) return node.enum.map((value) => JSON.stringify(value)).join(' | ');
  if ('const' in node) return JSON.stringify(node.const);
  if (Array.isArray(node.anyOf)) return 'string | integer';
  return typeof node.type === 'string' ? node.type : '';
}
