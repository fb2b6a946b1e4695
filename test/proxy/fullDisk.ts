/** A tiny tmpfs for tests of a full file system: mounted when the tests run as root, else a reason to skip. */
import { spawnSync } from 'node:child_process';
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

export const PAGE = 4096;

/** Mounts a 64 KiB tmpfs and returns its path, or the reason it cannot (the caller skips). */
export function mountSmallTmpfs(t: TestContext): { path: string } | { skip: string } {
  if (process.getuid?.() !== 0) return { skip: 'needs root to mount a small tmpfs (a real full file system)' };
  const path = mkdtempSync(join(tmpdir(), 'mcp-policy-full-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', path], { encoding: 'utf8' });
  if (mounted.status !== 0) {
    rmSync(path, { recursive: true, force: true });
    return { skip: `cannot mount a tmpfs here: ${(mounted.stderr || mounted.error?.message || 'mount failed').trim()}` };
  }
  t.after(() => {
    spawnSync('umount', ['-l', path]);
    rmSync(path, { recursive: true, force: true });
  });
  return { path };
}

/** Fills the file system with one file, then frees `pages` pages of it: exactly that much room is left. */
export function fillLeaving(folder: string, pages: number): void {
  const filler = join(folder, 'filler');
  const fd = openSync(filler, 'w');
  const block = Buffer.alloc(PAGE, 0x61);
  let size = 0;
  try {
    for (;;) {
      const count = writeSync(fd, block);
      size += count;
      if (count < block.length) break;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  }
  const whole = Math.floor(size / PAGE) * PAGE;
  ftruncateSync(fd, Math.max(0, whole - pages * PAGE));
  closeSync(fd);
}
