/**
 * The keywords of JSON Schema (draft-07 and 2020-12, the two an `arguments` schema may use) and
 * the annotations tools commonly add. ajv runs with `strict: false`, so anything else in a
 * schema is ignored without a word: `"arguments": { "campaignId": {…} }` checks nothing.
 */
const KEYWORDS = new Set([
  // core and applicators
  '$schema', '$id', '$ref', '$defs', 'definitions', '$anchor', '$dynamicRef', '$dynamicAnchor', '$vocabulary', '$comment',
  'allOf', 'anyOf', 'oneOf', 'not', 'if', 'then', 'else', 'dependentSchemas', 'dependencies',
  'properties', 'patternProperties', 'additionalProperties', 'propertyNames', 'unevaluatedProperties',
  'items', 'prefixItems', 'additionalItems', 'contains', 'unevaluatedItems',
  // validation
  'type', 'enum', 'const', 'multipleOf', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum',
  'maxLength', 'minLength', 'pattern', 'maxItems', 'minItems', 'uniqueItems', 'maxContains', 'minContains',
  'maxProperties', 'minProperties', 'required', 'dependentRequired', 'format',
  'contentEncoding', 'contentMediaType', 'contentSchema',
  // annotations
  'title', 'description', 'default', 'deprecated', 'readOnly', 'writeOnly', 'examples',
]);

/** The top-level keys of a schema that JSON Schema does not know (and so never check anything). */
export function unknownSchemaKeys(schema: Record<string, unknown>): string[] {
  return Object.keys(schema).filter((key) => !KEYWORDS.has(key) && !key.startsWith('x-'));
}
