import { basename, dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DidChangeWatchedFilesNotification, type Connection, type Disposable, type FileSystemWatcher } from 'vscode-languageserver/node';

/** Every catalog written by `mcp-policy catalog` or the extension ends so. */
const CATALOG_GLOB = '**/*.catalog.json';

/**
 * Asks the client to watch catalog files: every `*.catalog.json`, plus the files policies
 * name in `catalog` under other names. Re-registers when a policy names a new one.
 */
export class CatalogWatcher {
  private registration: Disposable | undefined;
  private readonly registered = new Set<string>();
  private started = false;
  private pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly connection: Connection,
    private readonly relativePatterns: boolean,
    private readonly onError: (message: string) => void,
  ) {}

  /** Called after analyses; cheap when nothing new is named. */
  update(paths: readonly string[]): void {
    const extra = paths.filter((path) => !path.endsWith('.catalog.json'));
    if (this.started && extra.every((path) => this.registered.has(path))) return;
    this.started = true;
    for (const path of extra) this.registered.add(path);
    const watchers: FileSystemWatcher[] = [{ globPattern: CATALOG_GLOB }];
    for (const path of this.registered) {
      watchers.push({
        globPattern: this.relativePatterns ? { baseUri: pathToFileURL(dirname(path)).href, pattern: basename(path) } : `**/${basename(path)}`,
      });
    }
    // Registrations are asynchronous; chain them so an old one is never left behind.
    this.pending = this.pending.then(async () => {
      try {
        const previous = this.registration;
        this.registration = await this.connection.client.register(DidChangeWatchedFilesNotification.type, { watchers });
        previous?.dispose();
      } catch (error) {
        this.onError(`could not watch catalog files: ${(error as Error).message}`);
      }
    });
  }
}
