/**
 * Tells when any of a few files changes: the policy and its catalogs, for a hot reload.
 *
 * Each file has its own watch rather than its folder having one: a folder watch reports every
 * write to every file in it, and an audit log beside the policy (as `--audit audit.jsonl` in the
 * policy's folder makes it) woke the proxy twice per relayed call, ~10 µs of CPU a call
 * (bench/RESULTS.md). A file's watch follows its inode, so after any event the path is looked at
 * again: a file replaced by a rename (how many editors save) or deleted is watched anew once it
 * is back, and a file that does not exist yet is polled for until it does.
 */
import { statSync, watch, type FSWatcher } from 'node:fs';

/** How often a missing file is looked for. */
const MISSING_POLL_MS = 500;
/** Events come in bursts (truncate, write, rename): the path is looked at once they settle. */
const SETTLE_MS = 30;

interface Watched {
  watcher?: FSWatcher;
  inode?: number;
  timer?: NodeJS.Timeout;
}

export class FileWatch {
  private readonly files = new Map<string, Watched>();
  private closed = false;

  constructor(
    private readonly onChange: (path: string) => void,
    private readonly onError: (error: Error) => void,
  ) {}

  /** Watches exactly these paths from now on. */
  set(paths: readonly string[]): void {
    if (this.closed) return;
    const wanted = new Set(paths);
    for (const [path, watched] of this.files) {
      if (wanted.has(path)) continue;
      stop(watched);
      this.files.delete(path);
    }
    for (const path of wanted) {
      if (this.files.has(path)) continue;
      const watched: Watched = {};
      this.files.set(path, watched);
      this.arm(path, watched, false);
    }
  }

  close(): void {
    this.closed = true;
    for (const watched of this.files.values()) stop(watched);
    this.files.clear();
  }

  /** `appeared`: the file was missing or replaced, which is itself a change to report. */
  private arm(path: string, watched: Watched, appeared: boolean): void {
    stop(watched);
    const inode = inodeOf(path);
    if (inode === undefined) {
      watched.timer = setTimeout(() => this.arm(path, watched, true), MISSING_POLL_MS);
      watched.timer.unref();
      if (appeared) this.onChange(path);
      return;
    }
    try {
      watched.inode = inode;
      watched.watcher = watch(path, { persistent: false }, () => this.settle(path, watched));
      watched.watcher.on('error', () => this.settle(path, watched));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') this.onError(error as Error);
      watched.timer = setTimeout(() => this.arm(path, watched, true), MISSING_POLL_MS);
      watched.timer.unref();
      return;
    }
    if (appeared) this.onChange(path);
  }

  private settle(path: string, watched: Watched): void {
    if (this.closed || this.files.get(path) !== watched) return;
    clearTimeout(watched.timer);
    watched.timer = setTimeout(() => {
      if (this.closed || this.files.get(path) !== watched) return;
      if (inodeOf(path) !== watched.inode) this.arm(path, watched, true);
      else this.onChange(path);
    }, SETTLE_MS);
    watched.timer.unref();
  }
}

function stop(watched: Watched): void {
  clearTimeout(watched.timer);
  watched.timer = undefined;
  watched.watcher?.close();
  watched.watcher = undefined;
  watched.inode = undefined;
}

function inodeOf(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}
