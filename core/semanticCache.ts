import type { ToolCatalog } from './catalog';
import type { CompiledPolicy } from './compile';
import type { PolicyDiagnostic } from './diagnostic';
import type { JsonDocument } from './document';
import type { Policy } from './model';
import { ToolOutcomes } from './planChecks';
import { RuleFacts } from './ruleFacts';
import { semanticChecks, type SemanticMemo } from './semanticChecks';

/**
 * One document's semantic checks across edits. The catalog checks are what a large policy
 * pays for (a name lookup and a did-you-mean per rule, every catalog tool resolved through
 * the rules): they are kept per rule and per tool, so an edit to one rule checks only that
 * rule and the tools it names or matches again. The cheap whole-policy checks run each time.
 */
export class SemanticCache {
  private readonly memo: SemanticMemo = { facts: new RuleFacts(), outcomes: new ToolOutcomes() };

  check(document: JsonDocument, policy: Policy, catalog: ToolCatalog | undefined, compiled: () => CompiledPolicy): PolicyDiagnostic[] {
    return semanticChecks(document, policy, catalog, catalog && !catalog.isEmpty ? compiled : undefined, this.memo);
  }
}
