import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

/**
 * Compiles tool input schemas (which may be draft-07 or 2020-12) and `arguments` rules into
 * validators once, keyed by the schema object, and words every violation by its JSON path.
 */

export type ArgumentCheck = { ok: true } | { ok: false; violations: string[] };

export interface CompiledArgumentSchema {
  check(value: unknown): ArgumentCheck;
}

const draft07 = new Ajv({ allErrors: true, strict: false, validateSchema: false });
const draft2020 = new Ajv2020({ allErrors: true, strict: false, validateSchema: false });
addFormats(draft07);
addFormats(draft2020);

const compiled = new WeakMap<object, CompiledArgumentSchema>();

function pickAjv(schema: Record<string, unknown>): Ajv {
  const dialect = typeof schema.$schema === 'string' ? schema.$schema : '';
  return /draft-0[4-7]/.test(dialect) ? draft07 : draft2020;
}

/**
 * The same schema text compiles to the same validator: the language server re-parses the
 * policy on every keystroke, so the objects are new each time but their schemas rarely are.
 */
const compiledByText = new Map<string, CompiledArgumentSchema | Error>();
const TEXT_CACHE_LIMIT = 5000;

/** Throws with a readable message when the schema itself is not valid. */
export function compileArgumentSchema(schema: Record<string, unknown>): CompiledArgumentSchema {
  const known = compiled.get(schema);
  if (known) return known;
  const text = JSON.stringify(schema);
  let result = compiledByText.get(text);
  if (!result) {
    try {
      result = compileUncached(schema);
    } catch (error) {
      result = error as Error;
    }
    if (compiledByText.size >= TEXT_CACHE_LIMIT) compiledByText.clear();
    compiledByText.set(text, result);
  }
  if (result instanceof Error) throw result;
  compiled.set(schema, result);
  return result;
}

function compileUncached(schema: Record<string, unknown>): CompiledArgumentSchema {
  const ajv = pickAjv(schema);
  // $id and $schema would make ajv register or reject the schema globally; each is compiled on its own.
  const { $id: _id, $schema: _dialect, ...body } = schema;
  const validate: ValidateFunction = ajv.compile(body);
  return {
    check(value: unknown): ArgumentCheck {
      if (validate(value)) return { ok: true };
      return { ok: false, violations: (validate.errors ?? []).map(describeViolation) };
    },
  };
}

export function schemaCompileError(schema: Record<string, unknown>): string | undefined {
  try {
    compileArgumentSchema(schema);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

function describeViolation(error: ErrorObject): string {
  const where = error.instancePath === '' ? 'arguments' : error.instancePath;
  if (error.keyword === 'additionalProperties') {
    return `${where} must not have the property "${String((error.params as { additionalProperty: string }).additionalProperty)}"`;
  }
  if (error.keyword === 'required') {
    return `${where} must have the property "${String((error.params as { missingProperty: string }).missingProperty)}"`;
  }
  if (error.keyword === 'enum') {
    return `${where} must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return `${where} ${error.message ?? 'is not valid'}`;
}
