/**
 * The bearer token file: readable by the user only, so other local users cannot connect.
 *
 * Written so that nobody else can redirect it: the folder must be a real folder (not a symbolic
 * link) that the user owns and no one else can write (~/.mcp-policy is created 0700, and its mode
 * corrected when it is ours); the token goes into a new file created exclusively, without
 * following links, which is then renamed over the target. rename replaces a link planted at the
 * target instead of writing through it.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, constants, fchmodSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync, type Stats } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';

export class TokenFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenFileError';
  }
}

export function defaultTokenFolder(): string {
  return join(homedir(), '.mcp-policy');
}

export function defaultTokenFile(kind: 'serve' | 'proxy', port: number): string {
  return join(defaultTokenFolder(), `${kind}-${port}.token`);
}

export function writeTokenFile(path: string, token: string): void {
  const target = resolve(path);
  const folder = dirname(target);
  ensurePrivateFolder(folder, folder === resolve(defaultTokenFolder()));
  const temp = join(folder, `.${basename(target)}.${randomBytes(8).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o600);
    // The umask may have taken bits away; the owner needs read and write, nobody else anything.
    if (process.platform !== 'win32') fchmodSync(fd, 0o600);
    const data = Buffer.from(`${token}\n`);
    let written = 0;
    while (written < data.length) written += writeSync(fd, data, written, data.length - written);
    closeSync(fd);
    fd = undefined;
    renameSync(temp, target);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    rmSync(temp, { force: true });
    throw new TokenFileError(`cannot write the token file ${target}: ${(error as Error).message}`);
  }
}

/** Removes the token file, unless another process has since written its own token there. */
export function removeTokenFile(path: string | undefined, token?: string): void {
  if (!path) return;
  try {
    if (token !== undefined && lstatSync(path).isFile() && readFileSync(path, 'utf8').trim() !== token) return;
    rmSync(path, { force: true });
  } catch {
    // already gone, or not ours to remove
  }
}

/** The folder exists, is a real folder owned by the user, and nobody else can write in it. */
function ensurePrivateFolder(folder: string, ours: boolean): void {
  let stats = lstatOrUndefined(folder);
  if (!stats) {
    try {
      mkdirSync(folder, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new TokenFileError(`cannot create the token folder ${folder}: ${(error as Error).message}`);
    }
    stats = lstatOrUndefined(folder);
    if (stats?.isDirectory() && process.platform !== 'win32') chmodSync(folder, 0o700);
  }
  if (!stats) throw new TokenFileError(`cannot create the token folder ${folder}`);
  if (stats.isSymbolicLink()) {
    throw new TokenFileError(`refusing to write the token into ${folder}: it is a symbolic link, which could lead anywhere; remove it, or give --token-file in a folder of your own`);
  }
  if (!stats.isDirectory()) throw new TokenFileError(`refusing to write the token into ${folder}: it is not a folder`);
  if (process.platform === 'win32') return;
  const uid = process.getuid?.();
  if (uid !== undefined && stats.uid !== uid) {
    throw new TokenFileError(`refusing to write the token into ${folder}: it belongs to user ${stats.uid}, not to you (user ${uid}); remove it, or give --token-file in a folder of your own`);
  }
  const mode = stats.mode & 0o777;
  if (ours && mode !== 0o700) {
    chmodSync(folder, 0o700);
    return;
  }
  if (mode & 0o022) {
    throw new TokenFileError(
      `refusing to write the token into ${folder}: others can write in it (mode ${mode.toString(8).padStart(3, '0')}), so they could replace the token; use a folder only you can write (chmod go-w), or another --token-file`,
    );
  }
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TokenFileError(`cannot inspect the token folder ${path}: ${(error as Error).message}`);
  }
}
