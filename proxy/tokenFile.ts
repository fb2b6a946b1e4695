/** The bearer token file: readable by the user only, so other local users cannot connect. */
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export function defaultTokenFile(kind: 'serve' | 'proxy', port: number): string {
  return join(homedir(), '.mcp-policy', `${kind}-${port}.token`);
}

export function writeTokenFile(path: string, token: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, `${token}\n`, { mode: 0o600 });
  // writeFileSync keeps the mode of a file that already exists.
  chmodSync(path, 0o600);
}

export function removeTokenFile(path: string | undefined): void {
  if (path) rmSync(path, { force: true });
}
