import { existsSync, mkdirSync, readFileSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { LAUNCHER_NAME } from './clientConfigs/serverEntry';

/**
 * What a wrapped client configuration runs: a small script at a path that does not change
 * when mcp-policy is updated or moved, `${MCP_POLICY_HOME:-${XDG_DATA_HOME:-~/.local/share}/mcp-policy}/bin/mcp-policy`.
 * It starts the newest mcp-policy that wrote it (the CLI's `wrap`/`init`, the VS Code
 * extension on activation). A global install is not needed, an `npx` download is never made
 * when the client starts a server, and an update that removes the old folder is repaired by
 * the next run of the new one.
 */
export function launcherHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MCP_POLICY_HOME) return env.MCP_POLICY_HOME;
  return join(env.XDG_DATA_HOME || join(env.HOME || homedir(), '.local', 'share'), 'mcp-policy');
}

export function launcherPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(launcherHome(env), 'bin', LAUNCHER_NAME);
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

interface LauncherTarget {
  version: string;
  cli: string;
}

function recordedTarget(script: string): LauncherTarget | undefined {
  const match = /^# mcp-policy-launcher version=(\S+) cli=(.+)$/m.exec(script);
  return match ? { version: match[1]!, cli: match[2]! } : undefined;
}

function newerOrEqual(a: string, b: string): boolean {
  const parts = (v: string): number[] => v.split(/[.-]/).map((part) => Number.parseInt(part, 10) || 0);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) > (y[i] ?? 0);
  return true;
}

/**
 * Writes (or refreshes) the launcher so it runs `cli` with `node`; returns its path. An
 * existing launcher that points at a newer install that still exists is left alone.
 */
export function installLauncher(options: { cli: string; node: string; version: string; env?: NodeJS.ProcessEnv }): string {
  const path = launcherPath(options.env);
  const cli = realpathSync(options.cli);
  if (existsSync(path)) {
    const current = recordedTarget(readFileSync(path, 'utf8'));
    if (current && current.cli === cli) return path;
    if (current && existsSync(current.cli) && !newerOrEqual(options.version, current.version)) return path;
  }
  const script = [
    '#!/bin/sh',
    '# Written by mcp-policy; the newest install that runs rewrites it. Client configurations wrapped',
    '# by `mcp-policy wrap` start their servers through this file, so it must stay where it is.',
    `# mcp-policy-launcher version=${options.version} cli=${cli}`,
    `cli=${shellQuote(cli)}`,
    `node=${shellQuote(options.node)}`,
    'if [ ! -f "$cli" ]; then',
    '  echo "mcp-policy: $cli is gone (mcp-policy was updated or removed); run mcp-policy once, or open VS Code with the MCP Policy extension, to repair this launcher" >&2',
    '  exit 127',
    'fi',
    '[ -x "$node" ] || node=node',
    // In VS Code the extension host's executable is Electron: this makes it a plain Node.
    'ELECTRON_RUN_AS_NODE=1 exec "$node" "$cli" "$@"',
    '',
  ].join('\n');
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, script, { mode: 0o755 });
  renameSync(temporary, path);
  return path;
}

/** This install's version, from the package.json above dist/ (or out/proxy/). */
function ownVersion(cli: string): string {
  for (const candidate of [join(dirname(cli), '..', 'package.json'), join(dirname(cli), '..', '..', 'package.json')]) {
    try {
      const parsed = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (parsed.name === 'mcp-policy' && parsed.version) return parsed.version;
    } catch {
      // next
    }
  }
  return '0.0.0';
}

/** Points the stable launcher at this CLI (see launcher.ts); returns its path. */
export function refreshLauncher(): string {
  const cli = resolve(process.argv[1] ?? __filename);
  return installLauncher({ cli, node: process.execPath, version: ownVersion(cli) });
}

