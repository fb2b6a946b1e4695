/**
 * One session's part in what the proxy knows of the server's tools: the pages of the client's
 * own tools/list, and the proxy's own listing when a call needs definitions the client has not
 * asked for. Both feed the guard's UpstreamSchemas, shared by the server's sessions; only the
 * upstream's answers ever reach it, never anything the client sent.
 */
import type { UpstreamSchemas } from './upstreamSchemas';
import { schemasOf } from './upstreamSchemas';

type Definitions = ReturnType<typeof schemasOf>;

/** Asks the upstream one tools/list page; rejects when it does not answer. */
export type ListPage = (cursor: string | undefined) => Promise<Record<string, unknown>>;

export class SessionListings {
  /** The pages of the client's current tools/list, until its last page completes the listing. */
  private clientListing: Definitions | undefined;
  private fetching: Promise<void> | undefined;

  constructor(
    private readonly schemas: UpstreamSchemas,
    private readonly server: string,
    private readonly listPage: ListPage,
  ) {}

  /** A page of the client's listing, in the order the client asks for them. */
  learnPage(tools: readonly unknown[], firstPage: boolean, lastPage: boolean): void {
    const definitions = schemasOf(tools);
    this.schemas.addPage(this.server, definitions);
    if (firstPage) this.clientListing = new Map();
    if (!this.clientListing) return;
    for (const [name, definition] of definitions) this.clientListing.set(name, definition);
    if (lastPage) {
      this.schemas.completeListing(this.server, this.clientListing);
      this.clientListing = undefined;
    }
  }

  /** Every page, asked by the proxy itself; calls waiting on it share one listing. */
  fetchAll(): Promise<void> {
    this.fetching ??= (async () => {
      const listing: Definitions = new Map();
      let cursor: string | undefined;
      do {
        const result = await this.listPage(cursor);
        const definitions = schemasOf(Array.isArray(result.tools) ? result.tools : []);
        this.schemas.addPage(this.server, definitions);
        for (const [name, definition] of definitions) listing.set(name, definition);
        cursor = typeof result.nextCursor === 'string' ? result.nextCursor : undefined;
      } while (cursor !== undefined);
      this.schemas.completeListing(this.server, listing);
    })()
      .catch(() => undefined) // the catalog is the fallback; the engine says when neither knows
      .finally(() => {
        this.fetching = undefined;
      });
    return this.fetching;
  }
}
