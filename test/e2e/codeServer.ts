// Harness for end-to-end tests against a real VS Code: code-server 4.139.1 (= VS Code 1.139.1)
// with a .vsix installed, driven by playwright-core in Debian's Chromium.
//
//   const { node, codeServer } = await ensureCodeServer();          // installs once, cached
//   const server = await startCodeServer({ vsix, workspace });      // fresh profile every run
//   const ui = await launchBrowser({ screenshotsDir });
//   await ui.openWorkbench(server.workbenchUrl);
//   await server.waitForExtensionActivated('mcp-policy.mcp-policy');  // optional
//   await ui.runCommand('MCP Policy: Something');                   // label as the palette shows it
//   await ui.waitForNotification(/done/);
//   await ui.close(); await server.stop();
//
// Every server is also killed (whole process group) when the test process exits, is
// interrupted (SIGINT/SIGTERM/SIGHUP) or a test throws, so no code-server is left behind.
//
// Debugging: server.logs() (code-server's stdout), server.vscodeLogs() (files under
// <userDataDir>/logs: exthost1/remoteexthost.log has activations and extension errors,
// exthost1/<publisher.name>/<Channel>.log each LogOutputChannel), ui.consoleLogs() (the
// browser console, which receives extensions' console.log as "[Extension Host] ...").
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

// ---------------------------------------------------------------------------------------
// Locating the repo and installing code-server

/**
 * The repo root: the nearest folder above `from` (default: this compiled file, then the
 * current directory) whose package.json is named "mcp-policy".
 */
export function repoRoot(from?: string): string {
  if (from === undefined) {
    try {
      return repoRoot(__dirname);
    } catch {
      return repoRoot(process.cwd());
    }
  }
  let dir = resolve(from);
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        const parsed: unknown = JSON.parse(readFileSync(pkg, 'utf8'));
        if (typeof parsed === 'object' && parsed !== null && (parsed as { name?: unknown }).name === 'mcp-policy') {
          return dir;
        }
      } catch {
        // not JSON: keep walking
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json named "mcp-policy" above ${from}`);
    dir = parent;
  }
}

export interface CodeServerInstall {
  /** Node 24 binary that runs code-server. */
  node: string;
  /** code-server's bin script (out/node/entry.js); run as `node codeServer ...args`. */
  codeServer: string;
}

let installing: Promise<CodeServerInstall> | undefined;

/**
 * Runs scripts/setup-code-server.sh (installs Debian chromium + libkrb5-dev, Node 24 and
 * code-server into ~/.cache/mcp-policy unless already there; ~0.1 s when cached, a few minutes
 * the first time) and returns the two paths it prints. Memoised per process.
 */
export function ensureCodeServer(): Promise<CodeServerInstall> {
  installing ??= runSetupScript();
  installing.catch(() => {
    installing = undefined; // let a later call retry
  });
  return installing;
}

/**
 * One run of scripts/setup-code-server.sh in `env` (default: this process's, with CI=true).
 * A failure rejects with an Error whose first line is the script's one-line reason (what
 * failed and why); the script's progress and the tail of the apt/npm output follow it.
 */
export function runSetupScript(env: NodeJS.ProcessEnv = { ...process.env, CI: process.env['CI'] ?? 'true' }): Promise<CodeServerInstall> {
  const script = join(repoRoot(), 'scripts', 'setup-code-server.sh');
  return new Promise((resolvePromise, reject) => {
    const child = spawn('bash', [script], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      err += chunk;
      process.stderr.write(chunk); // progress (nothing when cached); apt/npm output is in the script's log
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code !== 0) {
        const failed = [...err.matchAll(/^\[setup-code-server\] FAILED: (.*)$/gm)].at(-1);
        const exit = signal ? `was killed by ${signal}` : `exited with ${String(code)}`;
        const reason = failed?.[1] ?? `scripts/setup-code-server.sh ${exit}`;
        const rest = failed ? err.slice(0, failed.index) + err.slice(failed.index + failed[0].length) : err;
        reject(new Error(`code-server setup failed: ${reason}\n(${script} ${exit}; its output:)\n${tail(rest.trim(), 4000)}`));
        return;
      }
      const node = /^NODE24=(.+)$/m.exec(out)?.[1]?.trim();
      const codeServer = /^CODE_SERVER=(.+)$/m.exec(out)?.[1]?.trim();
      if (!node || !codeServer) {
        reject(new Error(`${script} did not print NODE24=/CODE_SERVER=:\n${out}`));
        return;
      }
      resolvePromise({ node, codeServer });
    });
  });
}

// ---------------------------------------------------------------------------------------
// Running code-server

export interface StartCodeServerOptions {
  /** Absolute path of the .vsix to install (with --force) before starting. */
  vsix: string;
  /** Folder to open; `workbenchUrl` opens it. */
  workspace: string;
  /** Extra user settings (merged over startupEditor none / telemetry off). */
  settings?: Record<string, unknown>;
  /** Default true (`--disable-workspace-trust`). `false` starts with workspace trust on, so the folder opens untrusted (Restricted Mode). */
  trustWorkspace?: boolean;
  /** Extra environment for code-server and so for the extension host and anything it spawns. */
  env?: Record<string, string>;
  /** How long to wait for the "HTTP server listening" line. Default 60 s. */
  startTimeoutMs?: number;
}

export interface CodeServer {
  /** http://127.0.0.1:PORT/ */
  url: string;
  /** http://127.0.0.1:PORT/?folder=<abs workspace> */
  workbenchUrl: string;
  port: number;
  /** code-server's own stdout+stderr so far (install step included). */
  logs: () => string;
  /** Stops the whole process group (SIGTERM, SIGKILL after 5 s) and removes the temp dirs. */
  stop: () => Promise<void>;
  /** Temp dirs of this run (removed by stop()). */
  dirs: { root: string; home: string; userDataDir: string; extensionsDir: string };
  /** All VS Code log files under `<userDataDir>/logs` (server, exthost, extension output channels). */
  vscodeLogs: () => string;
  /** Polls the VS Code log files until `pattern` matches; returns the match. */
  waitForVscodeLog: (pattern: RegExp, timeoutMs?: number) => Promise<RegExpExecArray>;
  /**
   * Waits until the extension host has activated `extensionId` ("publisher.name"), from the
   * exthost log line `ExtensionService#_doActivateExtension <id>, ...`.
   */
  waitForExtensionActivated: (extensionId: string, timeoutMs?: number) => Promise<void>;
}

interface Live {
  pid: number;
  root: string;
}
const live = new Set<Live>();
let exitHooksInstalled = false;

function killGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false; // ESRCH: group gone
  }
}

function groupAlive(pid: number): boolean {
  return killGroup(pid, 0);
}

function cleanupAllSync(): void {
  for (const entry of live) {
    killGroup(entry.pid, 'SIGKILL');
    try {
      rmSync(entry.root, { recursive: true, force: true });
    } catch {
      // best effort
    }
    live.delete(entry);
  }
}

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on('exit', cleanupAllSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      cleanupAllSync();
      process.kill(process.pid, signal); // our listener is gone: default action (exit)
    });
  }
}

/** Environment for code-server: no leaks from an enclosing VS Code / node --test. */
function childEnv(dirs: { home: string }, extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('VSCODE_') || key.startsWith('CODE_SERVER_') || key.startsWith('NODE_TEST')) continue;
    if (['ELECTRON_RUN_AS_NODE', 'NODE_OPTIONS', 'PASSWORD', 'HASHED_PASSWORD', 'npm_config_nodedir'].includes(key)) continue;
    env[key] = value;
  }
  env['HOME'] = dirs.home;
  env['XDG_CONFIG_HOME'] = join(dirs.home, '.config');
  env['XDG_DATA_HOME'] = join(dirs.home, '.local', 'share');
  env['XDG_CACHE_HOME'] = join(dirs.home, '.cache');
  env['XDG_STATE_HOME'] = join(dirs.home, '.local', 'state');
  env['XDG_RUNTIME_DIR'] = join(dirs.home, '.runtime');
  env['TMPDIR'] = join(dirs.home, 'tmp');
  return { ...env, ...extra };
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
      reject(new Error(`timed out after ${timeoutMs} ms: ${cmd} ${args.join(' ')}\n${tail(out, 4000)}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL'); // stragglers
      if (code === 0) resolvePromise(out);
      else reject(new Error(`exit ${String(code)}: ${cmd} ${args.join(' ')}\n${tail(out, 4000)}`));
    });
  });
}

export async function startCodeServer(opts: StartCodeServerOptions): Promise<CodeServer> {
  const install = await ensureCodeServer();
  installExitHooks();

  const root = await mkdtemp(join(tmpdir(), 'mcp-policy-code-server-'));
  const dirs = {
    root,
    home: join(root, 'home'),
    userDataDir: join(root, 'user-data'),
    extensionsDir: join(root, 'extensions'),
  };
  const entry: Live = { pid: 0, root };
  live.add(entry); // from here on, process exit removes `root`
  try {
    const env = childEnv(dirs, opts.env);
    for (const d of [dirs.home, dirs.userDataDir, dirs.extensionsDir, join(dirs.userDataDir, 'User')]) mkdirSync(d, { recursive: true });
    for (const key of ['XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_CACHE_HOME', 'XDG_STATE_HOME', 'XDG_RUNTIME_DIR', 'TMPDIR'] as const) {
      const d = env[key];
      if (d !== undefined) mkdirSync(d, { recursive: true, mode: 0o700 });
    }
    const settings: Record<string, unknown> = {
      'workbench.startupEditor': 'none',
      'telemetry.telemetryLevel': 'off',
      'workbench.tips.enabled': false,
      'extensions.autoUpdate': false,
      'extensions.autoCheckUpdates': false,
      'update.mode': 'none',
      'workbench.secondarySideBar.defaultVisibility': 'hidden',
      ...opts.settings,
    };
    writeFileSync(join(dirs.userDataDir, 'User', 'settings.json'), JSON.stringify(settings, null, 2));

    const common = ['--user-data-dir', dirs.userDataDir, '--extensions-dir', dirs.extensionsDir];
    let log = await run(install.node, [install.codeServer, ...common, '--install-extension', resolve(opts.vsix), '--force'], env, 120_000);

    const args = [
      install.codeServer,
      ...common,
      '--bind-addr', '127.0.0.1:0',
      '--auth', 'none',
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-getting-started-override',
      '--ignore-last-opened',
    ];
    if (opts.trustWorkspace !== false) args.push('--disable-workspace-trust');

    const child: ChildProcess = spawn(install.node, args, { env, cwd: dirs.home, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    if (child.pid === undefined) throw new Error('code-server did not start');
    const pid = child.pid;
    entry.pid = pid;
    let exited: number | null | undefined;
    const exitPromise = new Promise<void>((res) =>
      child.once('exit', (code, signal) => {
        exited = code ?? (signal ? -1 : null);
        res();
      }),
    );

    const port = await new Promise<number>((resolvePromise, reject) => {
      const timeoutMs = opts.startTimeoutMs ?? 60_000;
      const timer = setTimeout(() => reject(new Error(`code-server did not listen within ${timeoutMs} ms\n${tail(log, 4000)}`)), timeoutMs);
      const onData = (chunk: Buffer): void => {
        log += chunk.toString('utf8');
        const m = /HTTP server listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(log);
        if (m?.[1]) {
          clearTimeout(timer);
          resolvePromise(Number(m[1]));
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`code-server exited (${String(code)}) before listening\n${tail(log, 4000)}`));
      });
    });
    // Don't let a forgotten server keep the test process alive: the exit hook kills it.
    child.unref();
    for (const s of [child.stdout, child.stderr]) (s as unknown as { unref?: () => void } | null)?.unref?.();

    const waitForVscodeLog = async (pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = pattern.exec(readVscodeLogs(dirs.userDataDir));
        if (m) return m;
        if (Date.now() >= deadline) throw new Error(`no ${String(pattern)} in the VS Code logs after ${timeoutMs} ms`);
        await delay(200);
      }
    };

    const url = `http://127.0.0.1:${port}/`;
    let stopped: Promise<void> | undefined;
    const stop = (): Promise<void> =>
      (stopped ??= (async () => {
        if (killGroup(pid, 'SIGTERM')) {
          const deadline = Date.now() + 5000;
          while (groupAlive(pid) && Date.now() < deadline) await delay(100);
          if (exited === undefined) await Promise.race([exitPromise, delay(1000)]);
          killGroup(pid, 'SIGKILL');
          const hard = Date.now() + 5000;
          while (groupAlive(pid) && Date.now() < hard) await delay(50);
        }
        live.delete(entry);
        await rm(root, { recursive: true, force: true, maxRetries: 3 });
      })());

    return {
      url,
      workbenchUrl: `${url}?folder=${encodeURIComponent(resolve(opts.workspace))}`,
      port,
      logs: () => log,
      stop,
      dirs,
      vscodeLogs: () => readVscodeLogs(dirs.userDataDir),
      waitForVscodeLog,
      waitForExtensionActivated: async (extensionId: string, timeoutMs?: number) => {
        await waitForVscodeLog(new RegExp(`_doActivateExtension ${escapeRegExp(extensionId)}\\b`, 'i'), timeoutMs);
      },
    };
  } catch (error) {
    if (entry.pid) killGroup(entry.pid, 'SIGKILL');
    live.delete(entry);
    await rm(root, { recursive: true, force: true });
    throw error;
  }
}

/**
 * VS Code's log files for a code-server run, newest session last:
 * `<userDataDir>/logs/<session>/remoteagent.log`, `.../exthost1/remoteexthost.log`
 * (extension host: activation errors, console.* of extensions) and
 * `.../exthost1/output_logging_<time>/<n>-<Channel>.log` (each extension's OutputChannel,
 * e.g. a language client's trace). Returns "=== path ===\n<contents>" blocks; `filter`
 * selects by path (e.g. /exthost/).
 */
export function readVscodeLogs(userDataDir: string, filter?: RegExp): string {
  const files: string[] = [];
  const walk = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names.sort()) {
      const p = join(dir, name);
      let isDir = false;
      try {
        isDir = statSync(p).isDirectory();
      } catch {
        continue;
      }
      if (isDir) walk(p);
      else if (name.endsWith('.log') && (!filter || filter.test(p))) files.push(p);
    }
  };
  walk(join(userDataDir, 'logs'));
  return files
    .map((f) => {
      let text = '';
      try {
        text = readFileSync(f, 'utf8');
      } catch {
        // rotated away
      }
      return `=== ${f} ===\n${text}`;
    })
    .join('\n');
}

// ---------------------------------------------------------------------------------------
// Browser

export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--disable-breakpad',
  '--disable-crash-reporter',
];

export interface Workbench {
  context: BrowserContext;
  page: Page;
  /** Goes to the URL and waits for `.monaco-workbench` (and its status bar). */
  openWorkbench: (url: string, timeoutMs?: number) => Promise<void>;
  /** F1, fills the palette with the command's label as shown ("Category: Title"), waits for that row, runs it. */
  runCommand: (title: string, timeoutMs?: number) => Promise<void>;
  /** Waits for a notification toast whose text matches, returns its text. */
  waitForNotification: (text: string | RegExp, timeoutMs?: number) => Promise<string>;
  /** Browser console so far; includes what extensions console.log() ("[Extension Host] ..."). */
  consoleLogs: () => string;
  /** PNG into screenshotsDir (default <repo>/out/e2e-screenshots); returns its path. */
  screenshot: (name: string) => Promise<string>;
  screenshotsDir: string;
  close: () => Promise<void>;
}

export async function launchBrowser(opts: { screenshotsDir?: string; executablePath?: string } = {}): Promise<Workbench> {
  const profile = await mkdtemp(join(tmpdir(), 'mcp-policy-chromium-'));
  const screenshotsDir = resolve(opts.screenshotsDir ?? join(repoRoot(), 'out', 'e2e-screenshots'));
  // Debian's /usr/bin/chromium wrapper and crashpad write to $HOME/.config/chromium whatever the
  // --user-data-dir: give the browser a HOME inside the temp profile too.
  const home = join(profile, 'home');
  mkdirSync(join(home, '.config'), { recursive: true });
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  Object.assign(env, { HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_CACHE_HOME: join(home, '.cache') });
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: opts.executablePath ?? '/usr/bin/chromium',
      headless: true,
      args: [...CHROMIUM_ARGS],
      viewport: { width: 1400, height: 900 },
      env,
    });
  } catch (error) {
    await rm(profile, { recursive: true, force: true });
    throw error;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  let consoleText = '';
  page.on('console', (msg) => {
    consoleText += `[${msg.type()}] ${msg.text()}\n`;
  });
  page.on('pageerror', (error) => {
    consoleText += `[pageerror] ${String(error)}\n`;
  });

  const openWorkbench = async (url: string, timeoutMs = 60_000): Promise<void> => {
    await page.goto(url, { timeout: timeoutMs });
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: timeoutMs });
    await page.locator('.monaco-workbench .part.statusbar').waitFor({ state: 'visible', timeout: timeoutMs });
  };

  const runCommand = async (title: string, timeoutMs = 30_000): Promise<void> => {
    const widget = page.locator('.quick-input-widget');
    const input = widget.locator('input.input');
    const exact = new RegExp(`^\\s*${escapeRegExp(title)}\\s*$`);
    const row = widget.locator('.monaco-list-row').filter({ has: page.locator('.label-name', { hasText: exact }) }).first();
    const deadline = Date.now() + timeoutMs;
    // The palette computes its list when it opens, and an extension's commands only appear
    // once the (remote) extension host has registered it, a few seconds after the workbench
    // shows: so reopen the palette until the row is there.
    for (let attempt = 1; ; attempt++) {
      const left = Math.max(1, deadline - Date.now());
      await page.keyboard.press('F1');
      await input.waitFor({ state: 'visible', timeout: left });
      await input.fill(`>${title}`);
      try {
        await row.waitFor({ state: 'visible', timeout: Math.min(Math.max(1, deadline - Date.now()), 1000 * attempt) });
        break;
      } catch (error) {
        const shown = await widget.locator('.monaco-list-row .label-name').allInnerTexts().catch(() => []);
        await page.keyboard.press('Escape');
        await widget.waitFor({ state: 'hidden', timeout: 5000 }).catch(() => undefined);
        if (Date.now() >= deadline) {
          throw new Error(`command "${title}" not in the palette after ${timeoutMs} ms (shown: ${JSON.stringify(shown)})`, { cause: error });
        }
      }
    }
    const focused = (await row.getAttribute('class'))?.split(/\s+/).includes('focused') ?? false;
    if (focused) await input.press('Enter');
    else await row.click();
    await widget.waitFor({ state: 'hidden', timeout: Math.max(1, deadline - Date.now()) + 5000 });
  };

  const waitForNotification = async (text: string | RegExp, timeoutMs = 30_000): Promise<string> => {
    const toast = page.locator('.notifications-toasts .notification-toast, .notifications-center .notification-list-item').filter({ hasText: text }).first();
    await toast.waitFor({ state: 'visible', timeout: timeoutMs });
    return (await toast.innerText()).trim();
  };

  const screenshot = async (name: string): Promise<string> => {
    mkdirSync(screenshotsDir, { recursive: true });
    const path = join(screenshotsDir, name.endsWith('.png') ? name : `${name}.png`);
    await page.screenshot({ path });
    return path;
  };

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closed ??= (async () => {
      await context.close().catch(() => undefined);
      await rm(profile, { recursive: true, force: true, maxRetries: 3 });
    })());

  return { context, page, openWorkbench, runCommand, waitForNotification, consoleLogs: () => consoleText, screenshot, screenshotsDir, close };
}

// ---------------------------------------------------------------------------------------

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function tail(text: string, n: number): string {
  return text.length > n ? `…${text.slice(-n)}` : text;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
