/**
 * Numbers a double cannot hold. Policies and MCP messages are read as JavaScript reads JSON:
 * every number an IEEE 754 double. An integer past 2^53 (a 64-bit record id) becomes another
 * integer, and a number past the double's range becomes Infinity, which JSON writes as null.
 * The proxy refuses a client's messages that hold such a number (proxy/inexactNumbers.ts) and
 * relays a server's as written (proxy/exactNumbers.ts); the policy checks warn on one written in
 * a policy, which would mean another number than it says.
 */
import { getNodePath, type Node } from 'jsonc-parser';
import { DiagnosticCode, type PolicyDiagnostic } from './diagnostic';
import type { JsonDocument } from './document';

/**
 * Only a text with 16 or more digits in a row, or a 3-digit exponent, can hold such a number
 * (integers past 2^53 have 16 digits; a number past the double's range has an exponent past 308
 * or more than 308 digits): other texts need no closer look.
 */
export const MAYBE_INEXACT = /\d{16}|[eE][+-]?\d{3}/;

/**
 * True when the number would be written back as another number: an integer JSON.stringify
 * writes with other digits (past 2^53 the double is the nearest one; a reader that takes integers
 * exactly, as Python's json does, reads another number) or a number past the double's range.
 * Decimals a double only approximates (0.1, 1e-400) are not: every reader that takes such
 * numbers as doubles (JavaScript, Python's json, Go) reads them alike.
 */
export function isInexact(lexeme: string): boolean {
  const value = Number(lexeme);
  if (!Number.isFinite(value)) return true;
  if (/[.eE]/.test(lexeme) || Number.isSafeInteger(value)) return false;
  return JSON.stringify(value) !== lexeme;
}

/** What a double makes of it, for messages: "12345678901234567000", "Infinity". */
export function readAs(lexeme: string): string {
  return String(Number(lexeme));
}

/** Every number in the policy that would mean another number than written, as a warning on it. */
export function inexactNumberChecks(document: JsonDocument): PolicyDiagnostic[] {
  const root = document.root;
  if (!root || !MAYBE_INEXACT.test(document.text)) return [];
  const out: PolicyDiagnostic[] = [];
  const stack: Node[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.type === 'number') {
      const lexeme = document.text.slice(node.offset, node.offset + node.length);
      if (isInexact(lexeme)) {
        out.push({
          code: DiagnosticCode.inexactNumber,
          severity: 'warning',
          message: `${lexeme} cannot be held exactly (numbers are IEEE 754 doubles: integers up to 9007199254740991, magnitudes up to about 1.8e308), so the policy reads it as ${readAs(lexeme)}; and the proxy refuses calls that carry such a number. Write it as a string`,
          range: { offset: node.offset, length: node.length },
          path: getNodePath(node),
        });
      }
      continue;
    }
    const children = node.children;
    if (children) for (let index = 0; index < children.length; index++) stack.push(children[index]!);
  }
  return out;
}
