/**
 * The proxy's cost: server-everything's `echo` through `mcp-policy proxy` vs directly, in the
 * same run, over stdio and over Streamable HTTP. Latency from sequential calls; throughput
 * from 16 calls in flight. The proxy writes an audit file, as it would in use.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { abortIsolatingFetch } from '../proxy/abortIsolatingFetch';
import { fixed, summarize, table, thousands } from './stats';

const repoRoot = resolve(__dirname, '..', '..');
const cli = join(repoRoot, 'dist', 'cli.js');
const everything = join(repoRoot, 'node_modules', '.bin', 'mcp-server-everything');
const LATENCY_CALLS = 2000;
const THROUGHPUT_CALLS = 3000;
const IN_FLIGHT = 16;
const PHASE_LIMIT_MS = 20000;

interface Measured {
  p50: number;
  p99: number;
  callsPerSecond: number;
  rssMiB: number | undefined;
  /** The proxy's own CPU per call in the throughput phase: what it adds to the machine's load. */
  proxyCpuMicrosPerCall: number | undefined;
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
    let issued = 0;
    const throughputDeadline = Date.now() + PHASE_LIMIT_MS;
    const proxyCpuBefore = cpuMs(proxyPid());
    const benchCpuBefore = process.cpuUsage();
    const started = performance.now();
    const worker = async (): Promise<void> => {
      while (issued < THROUGHPUT_CALLS && Date.now() < throughputDeadline) {
        issued++;
        await call();
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    const seconds = (performance.now() - started) / 1000;
    const proxyCpuAfter = cpuMs(proxyPid());
    const benchCpu = process.cpuUsage(benchCpuBefore);
    const { p50, p99 } = summarize(latencies);
    return {
      p50,
      p99,
      callsPerSecond: issued / seconds,
      rssMiB: rssMiB(proxyPid()),
      proxyCpuMicrosPerCall: proxyCpuBefore === undefined || proxyCpuAfter === undefined ? undefined : ((proxyCpuAfter - proxyCpuBefore) * 1000) / issued,
      clientCpuMicrosPerCall: (benchCpu.user + benchCpu.system) / issued,
    };
  } finally {
    await client.close();
  }
}

function startDetached(command: string, args: string[], extraEnv: Record<string, string>, ready: RegExp): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(command, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...env(), ...extraEnv } });
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
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

export async function benchProxy(): Promise<string> {
  const folder = mkdtempSync(join(tmpdir(), 'mcp-policy-bench-'));
  const policy = join(folder, 'mcp-policy.json');
  writeFileSync(policy, JSON.stringify({ version: '1', default: 'allow', all_tools: { limits: [{ window: 'second', max: 1000000 }] } }));
  const audit = join(folder, 'audit.jsonl');
  const children: ChildProcess[] = [];
  try {
    const directStdio = await measure(new StdioClientTransport({ command: everything, args: [], stderr: 'ignore' }), () => undefined);
    const proxiedTransport = new StdioClientTransport({ command: process.execPath, args: [cli, 'proxy', policy, '--audit', audit, '--', everything], stderr: 'ignore', env: env() });
    const proxiedStdio = await measure(proxiedTransport, () => proxiedTransport.pid ?? undefined);

    const port = 20000 + Math.floor(Math.random() * 20000);
    const upstream = await startDetached(everything, ['streamableHttp'], { PORT: String(port) }, /listening|running/i);
    children.push(upstream.child);
    const upstreamUrl = `http://127.0.0.1:${port}/mcp`;
    const directHttp = await measure(new StreamableHTTPClientTransport(new URL(upstreamUrl), { fetch: abortIsolatingFetch() }), () => undefined);
    const proxy = await startDetached(process.execPath, [cli, 'proxy', policy, '--port', '0', '--token-file', join(folder, 'token'), '--audit', audit, '--url', upstreamUrl], {}, /listening on/);
    children.push(proxy.child);
    const url = /guarding \S+ at (\S+)/.exec(proxy.output())?.[1] ?? '';
    const token = /bearer token: (\S+)/.exec(proxy.output())?.[1] ?? '';
    const proxiedHttp = await measure(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } }, fetch: abortIsolatingFetch() }), () => proxy.child.pid);

    const row = (name: string, m: Measured, base?: Measured): Array<string | number> => [
      name,
      fixed(m.p50, 3),
      fixed(m.p99, 3),
      base ? `+${fixed(m.p50 - base.p50, 3)} / +${fixed(m.p99 - base.p99, 3)}` : '',
      thousands(m.callsPerSecond),
      base ? `${fixed((100 * m.callsPerSecond) / base.callsPerSecond, 0)} %` : '',
      m.rssMiB === undefined ? '' : fixed(m.rssMiB, 1),
      m.proxyCpuMicrosPerCall === undefined ? '' : fixed(m.proxyCpuMicrosPerCall, 0),
      fixed(m.clientCpuMicrosPerCall, 0),
    ];
    return [
      '### Proxy: server-everything `echo`, direct vs through `mcp-policy proxy`',
      '',
      `${LATENCY_CALLS} sequential calls for latency (ms), ${THROUGHPUT_CALLS} calls with ${IN_FLIGHT} in flight for throughput; the proxy writes an audit file. HTTP: the proxy listens on HTTP and its upstream is server-everything's own Streamable HTTP endpoint.`,
      '',
      table(
        ['path', 'p50 ms', 'p99 ms', 'added p50 / p99 ms', 'calls/s', 'of direct', 'proxy RSS MiB', 'proxy CPU µs/call', 'client CPU µs/call'],
        [row('stdio direct', directStdio), row('stdio via proxy', proxiedStdio, directStdio), row('HTTP direct', directHttp), row('HTTP via proxy', proxiedHttp, directHttp)],
      ),
      '',
      `On ${cpus().length} cores the client, the proxy and the server share the CPU: throughput with ${IN_FLIGHT} calls in flight is bound by their CPU per call together, so the proxy's own CPU per call is the figure it adds.`,
    ].join('\n');
  } finally {
    for (const child of children) stop(child);
    rmSync(folder, { recursive: true, force: true });
  }
}
