/**
 * Captures one upstream's tool catalog: connect with the SDK's own Client, run tools/list
 * over every page, record serverInfo, classify each tool's risk. Whatever goes wrong (no
 * such command, a crash, a hang) becomes one readable error; a deadline bounds the whole
 * capture so a hung upstream cannot hang the command.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { classifyTool, definitionDigest, isUrlUpstream, type CatalogServer, type CatalogTool, type Upstream } from '../core';
import { resolveUpstreamReferences } from './upstreamReferences';

export interface CaptureOptions {
  /** Where a command upstream runs when it names no cwd (the policy's folder). */
  defaultCwd: string;
  /** Deadline for the whole capture: start, initialize and every page. */
  timeoutMs: number;
  /** Client name sent in initialize. */
  clientName?: string;
}

/** A server that hands out a cursor forever would loop; no real catalog has this many pages. */
const MAX_PAGES = 1000;
/** Lines of an upstream's stderr kept to explain a failure. */
const STDERR_TAIL_LINES = 8;

export class CaptureError extends Error {}

export async function captureCatalog(upstream: Upstream, options: CaptureOptions): Promise<CatalogServer> {
  const stderrTail: string[] = [];
  const transport = makeTransport(upstream, options, stderrTail);
  const client = new Client({ name: options.clientName ?? 'mcp-policy catalog', version: '1' }, { capabilities: {} });
  const deadline = Date.now() + options.timeoutMs;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CaptureError(`no answer within ${Math.round(options.timeoutMs / 1000)} s`)), options.timeoutMs);
  });
  try {
    return await Promise.race([listEverything(client, transport, deadline), timedOut]);
  } catch (error) {
    throw new CaptureError(describeFailure(upstream, commandCwd(upstream, options), error, stderrTail));
  } finally {
    clearTimeout(timer);
    // An HTTP upstream keeps a session until told otherwise; a stdio one ends with its process.
    if (transport instanceof StreamableHTTPClientTransport && transport.sessionId !== undefined) {
      await Promise.race([transport.terminateSession().catch(() => undefined), new Promise((done) => setTimeout(done, 2000).unref())]);
    }
    // close() ends a stdio child (stdin closed, then SIGTERM, then SIGKILL); never let it block the answer.
    await Promise.race([client.close().catch(() => undefined), new Promise((done) => setTimeout(done, 3000).unref())]);
  }
}

async function listEverything(client: Client, transport: Transport, deadline: number): Promise<CatalogServer> {
  const remaining = (): number => Math.max(1, deadline - Date.now());
  await client.connect(transport, { timeout: remaining() });
  const tools: CatalogTool[] = [];
  const seenCursors = new Set<string>();
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const result = await client.listTools(cursor === undefined ? {} : { cursor }, { timeout: remaining() });
    for (const tool of result.tools) tools.push(catalogTool(tool));
    cursor = result.nextCursor;
    if (cursor === undefined) break;
    if (seenCursors.has(cursor)) throw new CaptureError(`tools/list returned the cursor ${JSON.stringify(cursor)} twice`);
    seenCursors.add(cursor);
  }
  if (cursor !== undefined) throw new CaptureError(`tools/list still had more pages after ${MAX_PAGES}`);
  const info = client.getServerVersion();
  return { ...(info ? { serverInfo: { name: info.name, version: info.version } } : {}), tools };
}

interface ListedTool {
  name: string;
  title?: string;
  description?: string;
  inputSchema: Record<string, unknown>;
  outputSchema?: Record<string, unknown>;
  annotations?: CatalogTool['annotations'];
}

/** The catalog keeps the tool as the server described it, plus the risk we derive. */
function catalogTool(tool: ListedTool): CatalogTool {
  // Key order as the spec shows it: a regenerated catalog diffs cleanly against a hand-made one.
  const entry: Omit<CatalogTool, 'risk'> = {
    name: tool.name,
    ...(tool.title !== undefined ? { title: tool.title } : {}),
    ...(tool.description !== undefined ? { description: tool.description } : {}),
    inputSchema: tool.inputSchema,
    ...(tool.outputSchema !== undefined ? { outputSchema: tool.outputSchema } : {}),
    ...(tool.annotations !== undefined ? { annotations: tool.annotations } : {}),
  };
  return { ...entry, risk: classifyTool(entry), digest: definitionDigest(entry) };
}

function commandCwd(upstream: Upstream, options: CaptureOptions): string {
  return resolve(options.defaultCwd, isUrlUpstream(upstream) ? '.' : upstream.cwd ?? '.');
}

function makeTransport(written: Upstream, options: CaptureOptions, stderrTail: string[]): Transport {
  const upstream = resolveUpstreamReferences(written, 'upstream');
  if (isUrlUpstream(upstream)) {
    return new StreamableHTTPClientTransport(new URL(upstream.url), { requestInit: { headers: upstream.headers ?? {} } });
  }
  // The user's environment, as when they start the server themselves, plus what the policy sets.
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  const transport = new StdioClientTransport({
    command: upstream.command,
    args: upstream.args ?? [],
    env: { ...env, ...(upstream.env ?? {}) },
    cwd: commandCwd(upstream, options),
    // Kept, not shown: servers log their banners there; it only matters when they fail.
    stderr: 'pipe',
  });
  const stream = transport.stderr as Readable | null;
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => {
    stderrTail.push(...chunk.split('\n').filter((line) => line.trim().length > 0));
    stderrTail.splice(0, Math.max(0, stderrTail.length - STDERR_TAIL_LINES));
  });
  return transport;
}

function describeFailure(upstream: Upstream, cwd: string, error: unknown, stderrTail: readonly string[]): string {
  const target = isUrlUpstream(upstream) ? upstream.url : [upstream.command, ...(upstream.args ?? [])].join(' ');
  const code = (error as NodeJS.ErrnoException).code;
  let message: string;
  if (code === 'ENOENT' && !isUrlUpstream(upstream)) {
    // spawn says ENOENT for a missing working folder too; name the right culprit.
    message = existsSync(cwd) ? `command not found: ${upstream.command}` : `the working folder ${cwd} does not exist`;
  }
  else if (code === 'EACCES' && !isUrlUpstream(upstream)) message = `command not executable: ${upstream.command}`;
  else if (/Connection closed/i.test((error as Error).message ?? '')) message = 'the upstream closed the connection before answering (did it exit? see its stderr)';
  else message = withCause(error);
  const tail = stderrTail.length > 0 ? `\n  upstream stderr:\n${stderrTail.map((line) => `    ${line}`).join('\n')}` : '';
  return `${message} (${target})${tail}`;
}

/** fetch says only "fetch failed"; the reason (ECONNREFUSED, a bad certificate) is in its cause. */
function withCause(error: unknown): string {
  const message = (error as Error).message || String(error);
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (!cause) return message;
  const detail = typeof cause.code === 'string' ? cause.code : typeof cause.message === 'string' ? cause.message : undefined;
  return detail && !message.includes(detail) ? `${message}: ${detail}` : message;
}
