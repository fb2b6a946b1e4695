import { schemaCompileError } from './argumentValidation';
import type { ToolCatalog } from './catalog';
import { compileGlob } from './glob';
import { GlobIndex } from './globIndex';
import { suggest } from './suggest';

/**
 * What the checks learn about one rule key, one hide entry or one `arguments` schema from
 * the catalog: each a function of that text, its server scope and the catalog alone, so an
 * editor keeps them across keystrokes and an edit to one rule looks up only that rule again.
 * A new catalog (a reload gives a new ToolCatalog object) starts the facts afresh.
 */
export class RuleFacts {
  private catalog: ToolCatalog | undefined;
  private readonly suggestions = new Map<string, string | undefined>();
  private readonly globMatches = new Map<string, boolean>();
  private readonly schemaErrors = new Map<string, string | undefined>();

  /** Called once per analysis, before any lookup. */
  useCatalog(catalog: ToolCatalog | undefined): void {
    if (catalog === this.catalog) return;
    this.catalog = catalog;
    this.suggestions.clear();
    this.globMatches.clear();
  }

  /** The closest catalog name for a name the catalog does not have. */
  suggestion(catalog: ToolCatalog, scope: string | undefined, name: string): string | undefined {
    const key = `${scope ?? ''}\u0000${name}`;
    if (this.suggestions.has(key)) return this.suggestions.get(key);
    const guess = suggest(name, catalog.toolNamesFor(scope));
    this.remember(this.suggestions, key, guess);
    return guess;
  }

  /** Whether a pattern (a glob or a name) matches any catalog tool in scope. */
  matchesAny(catalog: ToolCatalog, scope: string | undefined, pattern: string): boolean {
    return this.matchingAny(catalog, scope, [pattern]).has(pattern);
  }

  /** The patterns that match some catalog tool in scope; the ones not seen before in one pass over the catalog. */
  matchingAny(catalog: ToolCatalog, scope: string | undefined, patterns: readonly string[]): Set<string> {
    const matched = new Set<string>();
    const unknown = new GlobIndex<string>();
    const prefix = `${scope ?? ''}\u0000`;
    for (const pattern of patterns) {
      const known = this.globMatches.get(prefix + pattern);
      if (known === true) matched.add(pattern);
      else if (known === undefined) unknown.add(compileGlob(pattern), pattern);
    }
    if (unknown.size === 0) return matched;
    const found = new Set<string>();
    const names = catalog.toolNamesFor(scope);
    for (let index = 0; index < names.length; index++) {
      const patternsMatched = unknown.matching(names[index]!);
      for (let at = 0; at < patternsMatched.length; at++) found.add(patternsMatched[at]!);
    }
    for (const pattern of patterns) {
      const key = prefix + pattern;
      if (this.globMatches.has(key)) continue;
      this.remember(this.globMatches, key, found.has(pattern));
      if (found.has(pattern)) matched.add(pattern);
    }
    return matched;
  }

  /** Why an `arguments` schema does not compile, or undefined; it does not depend on the catalog. */
  schemaError(schema: Record<string, unknown>): string | undefined {
    const key = JSON.stringify(schema);
    if (this.schemaErrors.has(key)) return this.schemaErrors.get(key);
    const error = schemaCompileError(schema);
    this.remember(this.schemaErrors, key, error);
    return error;
  }

  /** Bounded: a long editing session must not grow memory without end. */
  private remember<T>(map: Map<string, T>, key: string, value: T): void {
    if (map.size >= FACTS_LIMIT) map.clear();
    map.set(key, value);
  }
}

const FACTS_LIMIT = 50_000;

/** For callers without an editor session (the CLI, the proxy): facts live for one analysis. */
export function freshFacts(catalog: ToolCatalog | undefined): RuleFacts {
  const facts = new RuleFacts();
  facts.useCatalog(catalog);
  return facts;
}
