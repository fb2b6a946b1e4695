/**
 * The proxy's cost: server-everything's `echo` through `mcp-policy proxy`, directly, and through
 * the plain relays a user would pick instead (supergateway, mcp-proxy), in the same run: the
 * paths are measured in turn, round after round, and each figure is the median over the rounds.
 * Latency from sequential calls; throughput from 16 calls in flight. The proxy writes an audit
 * file, as it would in use. The front process's CPU per call is the figure that holds under load.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { abortIsolatingFetch } from '../proxy/abortIsolatingFetch';
import { fixed, summarize, table, thousands } from './stats';

const repoRoot = resolve(__dirname, '..', '..');
const cli = join(repoRoot, 'dist', 'cli.js');
const bin = (name: string): string => join(repoRoot, 'node_modules', '.bin', name);
const everything = bin('mcp-server-everything');
const floorRelay = join(repoRoot, 'bench', 'probes', 'floorRelay.mjs');
const floorIoRelay = join(repoRoot, 'bench', 'probes', 'floorIoRelay.mjs');
const LATENCY_CALLS = 1500;
const THROUGHPUT_CALLS = 2000;
/** Calls with IN_FLIGHT in flight after the throughput phase, for the front's CPU once its code is compiled. */
const WARM_CALLS = 4000;
const ROUNDS = 3;
const IN_FLIGHT = 16;
const PHASE_LIMIT_MS = 20000;

interface Measured {
  p50: number;
  p99: number;
  callsPerSecond: number;
  /** Calls per second over the WARM_CALLS, once every process's code is compiled. */
  warmCallsPerSecond: number;
  rssMiB: number | undefined;
  /** The proxy's own CPU per call in the throughput phase: what it adds to the machine's load. */
  proxyCpuMicrosPerCall: number | undefined;
  /** The same over the WARM_CALLS after it: what a long session costs per call, without the JIT's warm-up. */
  warmProxyCpuMicrosPerCall: number | undefined;
  /** The benchmark client's CPU per call, for scale. */
  clientCpuMicrosPerCall: number;
}

function env(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) out[key] = value;
  return out;
}

function rssMiB(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : undefined;
}

/** CPU time (user + system) a process has used, in ms; Linux /proc clock ticks are 10 ms. */
function cpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function measure(transport: Transport, proxyPid: () => number | undefined): Promise<Measured> {
  const client = new Client({ name: 'bench', version: '1' });
  await client.connect(transport);
  try {
    const call = () => client.callTool({ name: 'echo', arguments: { message: 'bench' } });
    for (let i = 0; i < 200; i++) await call(); // warm-up
    const latencies: number[] = [];
    const latencyDeadline = Date.now() + PHASE_LIMIT_MS;
    for (let i = 0; i < LATENCY_CALLS && Date.now() < latencyDeadline; i++) {
      const started = performance.now();
      await call();
      latencies.push(performance.now() - started);
    }
    /** `calls` with IN_FLIGHT in flight (fewer if the phase runs out of time); how many were made. */
    const inFlight = async (calls: number): Promise<number> => {
      let issued = 0;
      const deadline = Date.now() + PHASE_LIMIT_MS;
      const worker = async (): Promise<void> => {
        while (issued < calls && Date.now() < deadline) {
          issued++;
          await call();
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
      return issued;
    };
    const perCall = (before: number | undefined, after: number | undefined, calls: number): number | undefined =>
      before === undefined || after === undefined || calls === 0 ? undefined : ((after - before) * 1000) / calls;
    const proxyCpuBefore = cpuMs(proxyPid());
    const benchCpuBefore = process.cpuUsage();
    const started = performance.now();
    const issued = await inFlight(THROUGHPUT_CALLS);
    const seconds = (performance.now() - started) / 1000;
    const proxyCpuAfter = cpuMs(proxyPid());
    const benchCpu = process.cpuUsage(benchCpuBefore);
    const warmStarted = performance.now();
    const warmCalls = await inFlight(WARM_CALLS);
    const warmSeconds = (performance.now() - warmStarted) / 1000;
    const proxyCpuWarm = cpuMs(proxyPid());
    const { p50, p99 } = summarize(latencies);
    return {
      p50,
      p99,
      callsPerSecond: issued / seconds,
      warmCallsPerSecond: warmCalls / warmSeconds,
      rssMiB: rssMiB(proxyPid()),
      proxyCpuMicrosPerCall: perCall(proxyCpuBefore, proxyCpuAfter, issued),
      warmProxyCpuMicrosPerCall: perCall(proxyCpuAfter, proxyCpuWarm, warmCalls),
      clientCpuMicrosPerCall: (benchCpu.user + benchCpu.system) / issued,
    };
  } finally {
    await client.close();
  }
}

/** `ready`: what the process prints once it serves; undefined: at once (the caller waits otherwise). */
function startDetached(command: string, args: string[], extraEnv: Record<string, string>, ready: RegExp | undefined): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(command, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...env(), ...extraEnv } });
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  if (!ready) return Promise.resolve({ child, output: () => text });
  return new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`${command} did not start:\n${text}`)), 15000);
    const check = (): void => {
      if (!ready.test(text)) return;
      clearTimeout(timer);
      done({ child, output: () => text });
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
  });
}

function stop(child: ChildProcess): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

/** Resolves once something listens on the port (for relays that print nothing reliable). */
async function listening(port: number, timeoutMs = 15000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((done) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        done(true);
      });
      socket.on('error', () => done(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port}`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

function freePort(): number {
  return 20000 + Math.floor(Math.random() * 20000);
}

/** One way of reaching server-everything: started fresh for each round, measured, stopped. */
interface Path {
  name: string;
  /** The process whose CPU per call is reported: the proxy or relay in front, else none. */
  run: (folder: string) => Promise<Measured>;
}

function httpTransport(url: string, headers: Record<string, string> = {}): Transport {
  return new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers }, fetch: abortIsolatingFetch() });
}

/** A relay listening on HTTP in front of a stdio server-everything. */
async function throughRelay(command: string, args: (port: number) => string[], path: string): Promise<Measured> {
  const port = freePort();
  const relay = await startDetached(command, args(port), {}, undefined);
  try {
    await listening(port);
    return await measure(httpTransport(`http://127.0.0.1:${port}${path}`), () => relay.child.pid);
  } finally {
    stop(relay.child);
  }
}

function paths(policy: string, audit: string): Path[] {
  const policyProxy = (folder: string, upstream: string[]): Promise<{ child: ChildProcess; output: () => string }> =>
    startDetached(process.execPath, [cli, 'proxy', policy, '--port', '0', '--token-file', join(folder, `token-${Math.random()}`), '--audit', audit, ...upstream], {}, /listening on/);
  const viaPolicyHttp = async (folder: string, upstream: string[]): Promise<Measured> => {
    const proxy = await policyProxy(folder, upstream);
    try {
      const url = /guarding \S+ at (\S+)/.exec(proxy.output())?.[1] ?? '';
      const token = /bearer token: (\S+)/.exec(proxy.output())?.[1] ?? '';
      return await measure(httpTransport(url, { Authorization: `Bearer ${token}` }), () => proxy.child.pid);
    } finally {
      stop(proxy.child);
    }
  };
  /** server-everything on Streamable HTTP, for the paths with an HTTP upstream. */
  const withHttpEverything = async <T>(use: (url: string) => Promise<T>): Promise<T> => {
    const port = freePort();
    const upstream = await startDetached(everything, ['streamableHttp'], { PORT: String(port) }, /listening|running/i);
    try {
      return await use(`http://127.0.0.1:${port}/mcp`);
    } finally {
      stop(upstream.child);
    }
  };
  return [
    { name: 'stdio direct', run: () => measure(new StdioClientTransport({ command: everything, args: [], stderr: 'ignore' }), () => undefined) },
    {
      // What any relay in Node costs on this machine: bytes copied both ways, nothing parsed,
      // decided or logged (bench/probes/floorRelay.mjs). The stdio figures are read against it.
      name: 'stdio via a relay that parses nothing',
      run: () => {
        const transport = new StdioClientTransport({ command: process.execPath, args: [floorRelay, everything], stderr: 'ignore' });
        return measure(transport, () => transport.pid ?? undefined);
      },
    },
    {
      // The same, plus the file writes mcp-policy makes for each call (budget claim and its read-back,
      // audit decision and outcome lines; bench/probes/floorIoRelay.mjs): its records, without parsing.
      name: 'stdio via a relay that parses nothing but writes the records',
      run: () => {
        const transport = new StdioClientTransport({ command: process.execPath, args: [floorIoRelay, everything], stderr: 'ignore' });
        return measure(transport, () => transport.pid ?? undefined);
      },
    },
    {
      name: 'stdio via mcp-policy',
      run: () => {
        const transport = new StdioClientTransport({ command: process.execPath, args: [cli, 'proxy', policy, '--audit', audit, '--', everything], stderr: 'ignore', env: env() });
        return measure(transport, () => transport.pid ?? undefined);
      },
    },
    { name: 'HTTP via mcp-policy (stdio upstream)', run: (folder) => viaPolicyHttp(folder, ['--', everything]) },
    { name: 'HTTP via supergateway (stdio upstream)', run: () => throughRelay(bin('supergateway'), (port) => ['--stdio', everything, '--outputTransport', 'streamableHttp', '--stateful', '--port', String(port), '--logLevel', 'none'], '/mcp') },
    { name: 'HTTP via mcp-proxy (stdio upstream)', run: () => throughRelay(bin('mcp-proxy'), (port) => ['--port', String(port), '--host', '127.0.0.1', '--server', 'stream', '--', everything], '/mcp') },
    {
      name: 'stdio via mcp-policy (HTTP upstream)',
      run: () =>
        withHttpEverything((url) => {
          const transport = new StdioClientTransport({ command: process.execPath, args: [cli, 'proxy', policy, '--audit', audit, '--url', url], stderr: 'ignore', env: env() });
          return measure(transport, () => transport.pid ?? undefined);
        }),
    },
    { name: 'HTTP direct (server-everything on HTTP)', run: () => withHttpEverything((url) => measure(httpTransport(url), () => undefined)) },
    { name: 'HTTP via mcp-policy (HTTP upstream)', run: (folder) => withHttpEverything((url) => viaPolicyHttp(folder, ['--url', url])) },
  ];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function versionOf(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(repoRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

export async function benchProxy(): Promise<string> {
  const folder = mkdtempSync(join(tmpdir(), 'mcp-policy-bench-'));
  const policy = join(folder, 'mcp-policy.json');
  writeFileSync(policy, JSON.stringify({ version: '1', default: 'allow', all_tools: { limits: [{ window: 'second', max: 1000000 }] } }));
  const audit = join(folder, 'audit.jsonl');
  const loadBefore = loadavg();
  // MCP_POLICY_BENCH_PATHS (a regular expression) measures only the paths it matches, and stdio direct.
  const only = process.env.MCP_POLICY_BENCH_PATHS;
  const all = paths(policy, audit).filter((path) => !only || path.name === 'stdio direct' || new RegExp(only).test(path.name));
  const rounds = Number(process.env.MCP_POLICY_BENCH_ROUNDS ?? ROUNDS);
  const results = new Map<string, Measured[]>(all.map((path) => [path.name, []]));
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const path of all) {
        process.stderr.write(`  round ${round}: ${path.name}\n`);
        results.get(path.name)!.push(await path.run(folder));
      }
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
  const loadAfter = loadavg();
  const direct = results.get('stdio direct')!;
  const directP50 = median(direct.map((m) => m.p50));
  const directRate = median(direct.map((m) => m.callsPerSecond));
  const directWarmRate = median(direct.map((m) => m.warmCallsPerSecond));
  const optional = (values: Array<number | undefined>): string => {
    const known = values.filter((value): value is number => value !== undefined);
    return known.length === 0 ? '' : fixed(median(known), 0);
  };
  const rows = all.map((path) => {
    const runs = results.get(path.name)!;
    const p50 = median(runs.map((m) => m.p50));
    const rate = median(runs.map((m) => m.callsPerSecond));
    const warmRate = median(runs.map((m) => m.warmCallsPerSecond));
    // The paths with a stdio server behind a stdio front: the ones comparable with stdio direct.
    const stdioRelay = path.name.startsWith('stdio via') && !path.name.includes('HTTP');
    return [
      path.name,
      fixed(p50, 3),
      fixed(median(runs.map((m) => m.p99)), 3),
      stdioRelay ? `+${fixed(p50 - directP50, 3)}` : '',
      thousands(rate),
      stdioRelay ? `${fixed((100 * rate) / directRate, 0)} %` : '',
      thousands(warmRate),
      stdioRelay ? `${fixed((100 * warmRate) / directWarmRate, 0)} %` : '',
      optional(runs.map((m) => m.proxyCpuMicrosPerCall)),
      optional(runs.map((m) => m.warmProxyCpuMicrosPerCall)),
      optional(runs.map((m) => m.rssMiB)),
      fixed(median(runs.map((m) => m.clientCpuMicrosPerCall)), 0),
    ];
  });
  return [
    '### Proxy and plain relays: server-everything `echo`',
    '',
    `${rounds} rounds, the paths interleaved within each round (each path started fresh); medians over the rounds. Per round and path: 200 warm-up calls, ${LATENCY_CALLS} sequential calls for latency (ms), ${THROUGHPUT_CALLS} calls with ${IN_FLIGHT} in flight for throughput. mcp-policy enforces a policy with a per-second limit and writes an audit file; supergateway ${versionOf('supergateway')} (\`--stateful\`) and mcp-proxy ${versionOf('mcp-proxy')} (\`--server stream\`) relay without a policy; "a relay that parses nothing" copies bytes both ways between the client and a stdio server-everything (bench/probes/floorRelay.mjs): what any Node relay costs here. "…but writes the records" also makes, for each call, the file writes mcp-policy must make (the budget claim and its read-back, the audit decision and outcome lines; bench/probes/floorIoRelay.mjs). "Warm calls/s" is the rate over the ${thousands(WARM_CALLS)} calls after the throughput phase, with every process's code compiled. "Front CPU" is the CPU time the proxy or relay process used per call in the throughput phase (/proc, 10 ms ticks; calls ${thousands(200 + LATENCY_CALLS + 1)}–${thousands(200 + LATENCY_CALLS + THROUGHPUT_CALLS)} of a fresh process, so partly the JIT compiling the relay's code); "warm" is the same over the ${thousands(WARM_CALLS)} calls after those, as in a long session. CPU depends far less on how loaded the machine is than the latencies do. Load average (1 min) ${fixed(loadBefore[0] ?? 0, 1)} at the start, ${fixed(loadAfter[0] ?? 0, 1)} at the end, on ${cpus().length} cores.`,
    '',
    table(['path', 'p50 ms', 'p99 ms', 'added p50 ms', 'calls/s', 'of direct', 'warm calls/s', 'warm, of direct', 'front CPU µs/call', 'warm front CPU µs/call', 'front RSS MiB', 'client CPU µs/call'], rows),
  ].join('\n');
}
