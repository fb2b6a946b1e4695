import type { ToolCatalog } from './catalog';
import type { CompiledPolicy } from './compile';
import type { PolicyDiagnostic } from './diagnostic';
import type { JsonDocument } from './document';
import type { Policy } from './model';
import { policyMeaningKey, ToolOutcomes } from './planChecks';
import { RuleFacts } from './ruleFacts';
import { semanticChecks, type SemanticMemo } from './semanticChecks';

type Remembered = Omit<PolicyDiagnostic, 'range'> & { part: 'key' | 'value' };

/**
 * One document's semantic checks across edits. An edit that leaves the policy's meaning
 * alone (typing in a reason, a comment, white space) reuses the last results, found again by
 * path. Any other edit runs the checks, but the catalog checks — what a large policy pays
 * for: a name lookup and a did-you-mean per rule, every catalog tool resolved through the
 * rules — are kept per rule and per tool (SemanticMemo), so only the rules the edit changed
 * and the tools they name or match are looked at again.
 * (The checks must not read a rule's `reason`: it is left out of the meaning.)
 */
export class SemanticCache {
  private readonly memo: SemanticMemo = { facts: new RuleFacts(), outcomes: new ToolOutcomes() };
  private key: string | undefined;
  private catalog: ToolCatalog | undefined;
  private remembered: Remembered[] = [];

  check(document: JsonDocument, policy: Policy, catalog: ToolCatalog | undefined, compiled: () => CompiledPolicy): PolicyDiagnostic[] {
    const key = policyMeaningKey(policy);
    if (key === this.key && catalog === this.catalog) {
      return this.remembered.map(({ part, ...rest }) => ({ ...rest, range: document.rangeOf(rest.path, part) }));
    }
    const diagnostics = semanticChecks(document, policy, catalog, catalog && !catalog.isEmpty ? compiled : undefined, this.memo);
    this.key = key;
    this.catalog = catalog;
    this.remembered = diagnostics.map((diagnostic) => {
      const { range, ...rest } = diagnostic;
      const keyRange = diagnostic.path.length > 0 ? document.rangeOf(diagnostic.path, 'key') : undefined;
      const part = keyRange && keyRange.offset === range.offset && keyRange.length === range.length ? 'key' : 'value';
      return { ...rest, part };
    });
    return diagnostics;
  }
}
