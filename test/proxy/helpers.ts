/** Shared plumbing of the proxy's end-to-end tests: temp folders, proxies, clients, cleanup. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';

export const repoRoot = resolve(__dirname, '..', '..', '..');
export const cli = join(repoRoot, 'dist', 'cli.js');
export const spyServer = join(__dirname, 'spyServer.js');
export type Mode = 'stdio' | 'http';
export const modes: Mode[] = ['stdio', 'http'];

export function bin(name: 'mcp-server-filesystem' | 'mcp-server-everything' | 'mcp-server-memory'): string {
  return join(repoRoot, 'node_modules', '.bin', name);
}

export function tempFolder(t: TestContext): string {
  const folder = mkdtempSync(join(tmpdir(), 'mcp-policy-proxy-'));
  t.after(() => rmSync(folder, { recursive: true, force: true }));
  return folder;
}

export function writePolicy(folder: string, policy: unknown, name = 'mcp-policy.json'): string {
  const path = join(folder, name);
  writeFileSync(path, JSON.stringify(policy, null, 2));
  return path;
}

export interface ProxyOptions {
  policy: string;
  /** The upstream command after `--`; omit to use --url or the policy's upstream. */
  upstream?: string[];
  args?: string[];
  env?: Record<string, string>;
  capabilities?: ClientCapabilities;
  /** Called before connect, to install request handlers (sampling, elicitation). */
  prepare?: (client: Client) => void;
}

export interface Connected {
  client: Client;
  /** The proxy's pid. */
  pid: number;
  stderr: () => string;
  url?: string;
  token?: string;
}

export function newClient(capabilities: ClientCapabilities = {}): Client {
  return new Client({ name: 'proxy-test', version: '1.0.0' }, { capabilities });
}

function baseEnv(extra: Record<string, string> | undefined, home: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  return { ...env, HOME: home, ...(extra ?? {}) };
}

/** Kills a detached process and everything it started. */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

export interface HttpProxy {
  child: ChildProcess;
  url: string;
  base: string;
  token: string;
  stderr: () => string;
}

/** Starts `mcp-policy ARGS` (proxy --port or serve) in its own process group; resolves once it listens. */
export async function startHttpCli(t: TestContext, args: string[], env?: Record<string, string>): Promise<HttpProxy> {
  const home = tempFolder(t);
  const child = spawn(process.execPath, [cli, ...args], { detached: true, stdio: ['ignore', 'ignore', 'pipe'], env: baseEnv(env, home) });
  t.after(() => killGroup(child));
  let text = '';
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  await new Promise<void>((resolveStarted, reject) => {
    const timer = setTimeout(() => reject(new Error(`the proxy did not start:\n${text}`)), 15000);
    const check = (): void => {
      if (/listening on http/.test(text)) {
        clearTimeout(timer);
        resolveStarted();
      }
    };
    child.stderr!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the proxy exited with ${code}:\n${text}`));
    });
  });
  const url = /guarding \S+ at (\S+)/.exec(text)?.[1];
  const base = /listening on (\S+)/.exec(text)?.[1];
  const token = /bearer token: (\S+)/.exec(text)?.[1];
  if (!url || !token || !base) throw new Error(`cannot read the proxy's address:\n${text}`);
  return { child, url, base, token, stderr: () => text };
}

export async function connectHttp(t: TestContext, url: string, token: string, capabilities?: ClientCapabilities, prepare?: (client: Client) => void): Promise<Client> {
  const client = newClient(capabilities);
  prepare?.(client);
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
  await client.connect(transport);
  t.after(() => client.close());
  return client;
}

/** A client talking to `mcp-policy proxy` over stdio or over HTTP. */
export async function connectThroughProxy(t: TestContext, mode: Mode, options: ProxyOptions): Promise<Connected> {
  const upstreamArgs = options.upstream ? ['--', ...options.upstream] : [];
  if (mode === 'http') {
    const proxy = await startHttpCli(t, ['proxy', options.policy, '--port', '0', ...(options.args ?? []), ...upstreamArgs], options.env);
    const client = await connectHttp(t, proxy.url, proxy.token, options.capabilities, options.prepare);
    return { client, pid: proxy.child.pid!, stderr: proxy.stderr, url: proxy.url, token: proxy.token };
  }
  const home = tempFolder(t);
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [cli, 'proxy', options.policy, ...(options.args ?? []), ...upstreamArgs],
    env: baseEnv(options.env, home),
    stderr: 'pipe',
  });
  let text = '';
  transport.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const client = newClient(options.capabilities);
  options.prepare?.(client);
  await client.connect(transport);
  t.after(() => client.close());
  return { client, pid: transport.pid!, stderr: () => text };
}

/** A client talking to the upstream directly, for comparisons. */
export async function connectDirect(t: TestContext, command: string[], env?: Record<string, string>): Promise<Client> {
  const transport = new StdioClientTransport({ command: command[0]!, args: command.slice(1), env: baseEnv(env, tmpdir()), stderr: 'ignore' });
  const client = newClient();
  await client.connect(transport);
  t.after(() => client.close());
  return client;
}

export function textOf(result: unknown): string {
  const content = (result as { content?: Array<{ text?: string }> }).content;
  return content?.map((item) => item.text ?? '').join('\n') ?? '';
}

export async function waitFor(condition: () => boolean, timeoutMs = 10000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 20));
  }
}

/** A loopback port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A small deterministic generator (mulberry32), so a failing run names its seed. */
export { mulberry32 as seededRandom } from '../core/helpers';
