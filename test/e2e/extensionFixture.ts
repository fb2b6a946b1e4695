/** What the end-to-end tests share: the packaged extension, and waiting for text in the UI. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { Locator } from 'playwright-core';
import { ensureCodeServer, repoRoot } from './codeServer';

export const EXTENSION_ID = 'mcp-policy.mcp-policy';

/** A skipped run has only its reason; otherwise temp (a folder of the run's own) and vsix are set. */
export interface PackagedExtension {
  skipReason: string | undefined;
  temp: string;
  vsix: string;
  cleanup: () => Promise<void>;
}

/**
 * Installs code-server if needed and packages the .vsix exactly as `npm run package` ships it
 * (dist/ is built by `npm test`). The only reason to skip: the browser cannot be had.
 */
export async function packageExtension(tempPrefix: string): Promise<PackagedExtension> {
  try {
    await ensureCodeServer();
  } catch (error) {
    if (!existsSync('/usr/bin/chromium')) {
      const skipReason = `Debian's chromium could not be installed, so VS Code cannot be driven: ${(error as Error).message.split('\n')[0] ?? ''}`;
      return { skipReason, temp: '', vsix: '', cleanup: async () => undefined };
    }
    throw error;
  }
  const root = repoRoot();
  const temp = realpathSync(await mkdtemp(join(tmpdir(), tempPrefix)));
  const vsix = join(temp, 'mcp-policy.vsix');
  const packaged = spawnSync(process.execPath, [join(root, 'scripts', 'package-vsix.mjs'), '--out', vsix], { cwd: root, encoding: 'utf8' });
  assert.equal(packaged.status, 0, `packaging failed:\n${packaged.stdout}\n${packaged.stderr}`);
  return { skipReason: undefined, temp, vsix, cleanup: () => rm(temp, { recursive: true, force: true }) };
}

/** A port that was free a moment ago, for settings that need one before the listener starts. */
export { freePort } from '../proxy/helpers';

/** Waits until the element's text (white space folded) matches. */
export async function expectText(locator: Locator, pattern: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    last = (await locator.innerText().catch(() => '')).replace(/\s+/g, ' ').trim();
    if (pattern.test(last)) return;
    if (Date.now() > deadline) throw new Error(`expected ${String(pattern)}, saw "${last}"`);
    await locator.page().waitForTimeout(100);
  }
}

/**
 * The packaged extension for one test file: packaged in the file's `before` hook, removed in its
 * `after` hook. Read its fields inside tests (they are filled in once `before` ran).
 */
export function usePackagedExtension(tempPrefix: string): PackagedExtension {
  const packaged: PackagedExtension = { skipReason: 'the extension was not packaged', temp: '', vsix: '', cleanup: async () => undefined };
  before(async () => Object.assign(packaged, await packageExtension(tempPrefix)));
  after(() => packaged.cleanup());
  return packaged;
}

/** @modelcontextprotocol/server-filesystem, from this package's dev dependencies. */
export const filesystemServer = join(repoRoot(), 'node_modules', '.bin', 'mcp-server-filesystem');

/**
 * A deny-by-default policy with these tool rules for one server "fs": server-filesystem over
 * `dataDir`; `approval` (e.g. a timeout) only when given.
 */
export function filesystemPolicyText(dataDir: string, tools: Record<string, object>, approval?: Record<string, unknown>): string {
  return `${JSON.stringify(
    {
      version: '1',
      default: 'deny',
      ...(approval ? { approval } : {}),
      tools,
      servers: { fs: { upstream: { command: filesystemServer, args: [dataDir] } } },
    },
    null,
    2,
  )}\n`;
}

/** Makes the run's folders `workspace` (the one VS Code opens) and `data` under `temp`. */
export function makeWorkspaceAndData(temp: string): { workspace: string; dataDir: string } {
  const workspace = join(temp, 'workspace');
  const dataDir = join(temp, 'data');
  mkdirSync(workspace, { recursive: true });
  mkdirSync(dataDir, { recursive: true });
  return { workspace, dataDir };
}
