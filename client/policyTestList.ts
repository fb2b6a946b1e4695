import { JsonDocument } from '../core/document';
import type { TextRange } from '../core/diagnostic';
import { isObject } from '../core/sanitize';

/** The named tests of a policy's text and where each is written; unnamed entries are the schema's to report. */
export function listTests(text: string): Array<{ name: string; range: TextRange }> {
  const document = new JsonDocument(text);
  const value = document.value;
  if (!isObject(value) || !Array.isArray(value.tests)) return [];
  const tests: Array<{ name: string; range: TextRange }> = [];
  const seen = new Set<string>();
  value.tests.forEach((raw: unknown, index: number) => {
    if (!isObject(raw) || typeof raw.name !== 'string' || seen.has(raw.name)) return;
    seen.add(raw.name);
    tests.push({ name: raw.name, range: document.rangeOf(['tests', index], 'value') });
  });
  return tests;
}
