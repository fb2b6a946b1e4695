import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Watches catalog files from the server itself, for clients that cannot watch files for it
 * (no dynamic registration of workspace/didChangeWatchedFiles, e.g. Neovim 0.7). It watches
 * the folders, not the files: a catalog that is created, replaced by a rename or deleted
 * is seen too. Changes are batched briefly: one write is several events.
 */
export class FolderWatcher {
  private readonly folders = new Map<string, { watcher: FSWatcher; names: Set<string> }>();
  private readonly pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly onChange: (files: string[]) => void,
    private readonly onError: (message: string) => void,
    private readonly delayMs = 100,
  ) {}

  /** Called after analyses with every catalog path looked at; cheap when nothing is new. */
  update(paths: readonly string[]): void {
    for (const path of paths) {
      const folder = dirname(path);
      const name = basename(path);
      const known = this.folders.get(folder);
      if (known) {
        known.names.add(name);
        continue;
      }
      try {
        const names = new Set([name]);
        const watcher = watch(folder, { persistent: false }, (_event, changed) => {
          // Without a name (some platforms), any watched file of the folder may have moved.
          const files = changed ? (names.has(String(changed)) ? [join(folder, String(changed))] : []) : [...names].map((entry) => join(folder, entry));
          for (const file of files) this.pending.add(file);
          if (files.length > 0) this.flushSoon();
        });
        watcher.on('error', (error) => this.onError(`stopped watching ${folder}: ${error.message}`));
        this.folders.set(folder, { watcher, names });
      } catch (error) {
        // A catalog named in a folder that does not exist: nothing to watch until it does.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.onError(`cannot watch ${folder}: ${(error as Error).message}`);
      }
    }
  }

  private flushSoon(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const files = [...this.pending];
      this.pending.clear();
      this.onChange(files);
    }, this.delayMs);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const { watcher } of this.folders.values()) watcher.close();
    this.folders.clear();
  }
}
