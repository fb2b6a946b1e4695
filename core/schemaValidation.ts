import type { ErrorObject, ValidateFunction } from 'ajv';
import policySchema from '../schemas/policy.schema.json';
import generatedValidator from './generated/policyValidator';
import { DiagnosticCode, type PolicyDiagnostic } from './diagnostic';
import type { JsonDocument } from './document';
import { formatJsonPath } from './jsonPath';
import { suggest } from './suggest';

export { policySchema };

/** Generated at build time from policy.schema.json (scripts/generate-validator.mjs): nothing to compile at run time. */
const validator = generatedValidator as unknown as ValidateFunction;

/** Validates against schemas/policy.schema.json; every error points at the key or value at fault. */
export function validatePolicySchema(document: JsonDocument): PolicyDiagnostic[] {
  const validate = validator;
  if (validate(document.value)) return [];
  const errors = pruneBranchErrors(validate.errors ?? []);
  const diagnostics: PolicyDiagnostic[] = [];
  const seen = new Set<string>();
  const brokenAt = document.firstParseErrorOffset;
  for (const error of errors) {
    // After a syntax error the parser guesses where objects end: an unclosed quote in a rule key
    // ends `tools` early, and its thousands of rules land on the top level. The syntax error is
    // the one mistake to report, not each of them as an unknown top-level property.
    if (brokenAt !== undefined && error.keyword === 'additionalProperties' && error.instancePath === '') {
      const property = String((error.params as { additionalProperty: string }).additionalProperty);
      if (document.rangeOf([property], 'key').offset > brokenAt) continue;
    }
    // propertyNames reports twice (the inner minLength, then itself): keep the one that says what.
    if (error.keyword !== 'propertyNames' && (error as { propertyName?: string }).propertyName !== undefined) continue;
    const diagnostic = toDiagnostic(document, error);
    const key = `${diagnostic.range.offset}:${diagnostic.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    diagnostics.push(diagnostic);
  }
  return diagnostics;
}

/** An anyOf/oneOf that fails reports once, in our words, instead of once per branch. */
function pruneBranchErrors(errors: ErrorObject[]): ErrorObject[] {
  const branchPaths = errors
    .filter((error) => error.keyword === 'anyOf' || error.keyword === 'oneOf')
    .map((error) => ({ instancePath: error.instancePath, schemaPath: error.schemaPath }));
  return errors.filter(
    (error) =>
      !branchPaths.some(
        (branch) =>
          error.instancePath === branch.instancePath &&
          error.schemaPath !== branch.schemaPath &&
          error.schemaPath.startsWith(branch.schemaPath.replace(/\/(anyOf|oneOf)$/, '/')),
      ),
  );
}

function instancePathSegments(instancePath: string, value: unknown): Array<string | number> {
  if (instancePath === '') return [];
  const segments: Array<string | number> = [];
  let current: unknown = value;
  for (const raw of instancePath.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const segment = Array.isArray(current) && /^\d+$/.test(key) ? Number(key) : key;
    segments.push(segment);
    current = current !== null && typeof current === 'object' ? (current as Record<string | number, unknown>)[segment] : undefined;
  }
  return segments;
}

function toDiagnostic(document: JsonDocument, error: ErrorObject): PolicyDiagnostic {
  const path = instancePathSegments(error.instancePath, document.value);
  const last = path[path.length - 1];
  // An array entry is named with its array: `"limits[0]"`, not `"0"`.
  const where = path.length === 0 ? 'the policy' : typeof last === 'number' ? `"${formatJsonPath(path.slice(-2))}"` : `"${String(last)}"`;
  switch (error.keyword) {
    case 'additionalProperties': {
      const property = String((error.params as { additionalProperty: string }).additionalProperty);
      const known = Object.keys((error.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {});
      // A key the object already has would become a duplicate if the fix wrote it.
      const present = valueAt(document.value, path);
      const guess = suggest(property, known);
      const taken = guess !== undefined && present !== null && typeof present === 'object' && Object.prototype.hasOwnProperty.call(present, guess);
      return {
        code: DiagnosticCode.unknownProperty,
        severity: 'error',
        message: `unknown property "${property}"${guess ? `; did you mean "${guess}"?${taken ? ` It is set here already: remove one of the two` : ''}` : ''}${known.length ? ` (allowed: ${known.join(', ')})` : ''}`,
        range: document.rangeOf([...path, property], 'key'),
        path: [...path, property],
        data: guess && !taken ? { suggestion: guess, property } : { property },
      };
    }
    case 'required': {
      const missing = String((error.params as { missingProperty: string }).missingProperty);
      return schemaDiagnostic(document, path, `${where} is missing the required property "${missing}"`, 'key');
    }
    case 'enum': {
      const allowed = (error.params as { allowedValues: unknown[] }).allowedValues.map((value) => JSON.stringify(value));
      return schemaDiagnostic(document, path, `${where} must be one of ${allowed.join(', ')}`);
    }
    case 'const':
      return schemaDiagnostic(document, path, `${where} must be ${JSON.stringify((error.params as { allowedValue: unknown }).allowedValue)}`);
    case 'anyOf':
    case 'oneOf':
      return schemaDiagnostic(document, path, branchMessage(path, where, error));
    case 'type':
      return schemaDiagnostic(document, path, `${where} must be ${article((error.params as { type: string }).type)}`);
    case 'minimum':
      return schemaDiagnostic(document, path, `${where} must be ${(error.params as { limit: number }).limit} or more`);
    case 'minLength':
      return schemaDiagnostic(document, path, `${where} must not be empty`);
    case 'pattern':
      return schemaDiagnostic(document, path, `${where} must start with http:// or https://`);
    case 'propertyNames': {
      // On the empty key itself, not on the whole object that holds it.
      const name = String((error.params as { propertyName?: string }).propertyName ?? '');
      return { ...schemaDiagnostic(document, [...path, name], `${where} has an empty property name: name a tool or a glob`, 'key'), path: [...path, name] };
    }
    default:
      return schemaDiagnostic(document, path, `${where} ${error.message ?? 'is not valid'}`);
  }
}

function branchMessage(path: ReadonlyArray<string | number>, where: string, error: ErrorObject): string {
  const last = path[path.length - 1];
  if (last === 'window') return 'window must be "second", "minute", "hour", "day" or a whole number of seconds (1 or more)';
  if (last === 'store' || (last === 'counters' && path.length === 1)) {
    const stores = '"embedded", "memory" or a redis:// URL';
    return last === 'store' ? `store must be ${stores}` : `counters must be ${stores}, or { "store": …, "when_unreachable": "refuse" | "allow" }`;
  }
  if (last === 'upstream') {
    const passing = (error.params as { passingSchemas?: number[] | null }).passingSchemas;
    return passing ? 'upstream must have either "command" or "url", not both' : 'upstream needs "command" (a server to start over stdio) or "url" (a Streamable HTTP endpoint)';
  }
  if (path[0] === 'tests' && path.length === 2) return 'a test needs "tool" and "expect" (one call) or "steps" (a sequence of calls), not both';
  return `${where} ${error.message ?? 'is not valid'}`;
}

function valueAt(value: unknown, path: ReadonlyArray<string | number>): unknown {
  let current = value;
  for (const segment of path) current = current !== null && typeof current === 'object' ? (current as Record<string | number, unknown>)[segment] : undefined;
  return current;
}

function article(type: string): string {
  const readable = type.replace(/,/g, ' or ');
  return /^[aeiou]/.test(readable) ? `an ${readable}` : `a ${readable}`;
}

function schemaDiagnostic(
  document: JsonDocument,
  path: Array<string | number>,
  message: string,
  part: 'key' | 'value' = 'value',
): PolicyDiagnostic {
  return { code: DiagnosticCode.schema, severity: 'error', message, range: document.rangeOf(path, part), path };
}
