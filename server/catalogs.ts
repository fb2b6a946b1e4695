import { resolve } from 'node:path';
import { CatalogDigests, catalogPathsFor, loadCatalog, ToolCatalog, type CatalogLoadProblem } from '../core';

export interface CatalogState {
  catalog: ToolCatalog;
  problems: CatalogLoadProblem[];
  /** Every path looked at, read or not: a catalog created later must reach the policy too. */
  watched: string[];
}

const EMPTY: CatalogState = { catalog: ToolCatalog.empty(), problems: [], watched: [] };

/**
 * Catalogs by (policy folder, named files). Reading and indexing a 10,000-tool catalog costs
 * far more than a keystroke may, so a catalog is read once and kept until a watched file
 * changes; `generation` tells cached analyses that some catalog moved under them.
 */
export class CatalogStore {
  private readonly cache = new Map<string, CatalogState>();
  private generationCount = 0;

  /** `digests`: where pin digests are made ahead of the checks (a worker thread; see core/catalogDigests.ts). */
  constructor(private readonly digests: CatalogDigests = new CatalogDigests()) {}

  /** Readies what the first catalog read uses (the digest worker), before any policy is opened. */
  prepare(): void {
    this.digests.prepare();
  }

  get generation(): number {
    return this.generationCount;
  }

  /** For documents without a file path (untitled) there is nothing beside them to read. */
  forPolicy(policyPath: string | undefined, named: readonly string[]): CatalogState {
    if (policyPath === undefined) return EMPTY;
    const key = `${resolve(policyPath, '..')}\u0000${named.join('\u0000')}`;
    let state = this.cache.get(key);
    if (!state) {
      const { catalog, problems } = loadCatalog(policyPath, named, [], this.digests);
      state = { catalog, problems, watched: catalogPathsFor(policyPath, named) };
      this.cache.set(key, state);
    }
    return state;
  }

  /** Drops catalogs that read one of `files` (all of them without `files`); true when something was dropped. */
  invalidate(files?: readonly string[]): boolean {
    const changed = files?.map((file) => resolve(file));
    let dropped = false;
    for (const [key, state] of this.cache) {
      if (changed && !state.watched.some((path) => changed.includes(path))) continue;
      this.cache.delete(key);
      dropped = true;
    }
    if (dropped || !changed) this.generationCount++;
    return dropped || !changed;
  }

  /** Paths every cached catalog looks at, for the file watcher. */
  watchedPaths(): string[] {
    const paths = new Set<string>();
    for (const state of this.cache.values()) for (const path of state.watched) paths.add(path);
    return [...paths];
  }
}
