/**
 * The proxy's messages on stderr. A client (or a shell pipe) may close its end of stderr at any
 * time; the write then fails with EPIPE, which Node reports as an 'error' event that would end
 * the process. Such messages have nowhere left to go, so they are dropped, and the proxy (and its
 * audit file, which never goes through stderr) carries on.
 */
let guarded = false;
let broken = false;

/** Once per process, before the first write: stderr failures stop further writes instead of crashing. */
export function guardStderr(): void {
  if (guarded) return;
  guarded = true;
  process.stderr.on('error', () => {
    broken = true;
  });
}

export function writeStderr(text: string): void {
  if (broken || process.stderr.destroyed) return;
  process.stderr.write(text);
}
