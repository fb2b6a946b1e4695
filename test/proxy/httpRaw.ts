/** Raw HTTP for attacks on the listener: any Host header, any body, and the proxy's child processes. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface RawRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** One request with exactly the headers given (fetch would not let a test set Host); reads the whole answer. */
export function rawRequest(url: string, options: RawRequest = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'POST', headers: options.headers ?? {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

export const mcpHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

export function initializeMessage(id: number | string = 1): Record<string, unknown> {
  return { jsonrpc: '2.0', id, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } };
}

/** The pids of the processes `parent` started (the proxy's upstreams). */
export function childPids(parent: number): number[] {
  // ps exits 1 when nothing matches.
  const out = spawnSync('ps', ['-o', 'pid=', '--ppid', String(parent)], { encoding: 'utf8' }).stdout;
  return out
    .split('\n')
    .map((line) => Number(line.trim()))
    .filter((pid) => pid > 0);
}

/** The messages a spy upstream received, in order (every upstream of the test appends to one file). */
export function spyMessages(spyLog: string): Array<Record<string, unknown>> {
  let text = '';
  try {
    text = readFileSync(spyLog, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** A JSON-RPC error body as the proxy writes it. */
export function rpcError(response: RawResponse): { id: unknown; code: unknown; message: unknown } {
  assert.match(String(response.headers['content-type']), /^application\/json/, `a JSON body, not ${String(response.headers['content-type'])}: ${response.body}`);
  const parsed = JSON.parse(response.body) as { jsonrpc?: unknown; id?: unknown; error?: { code?: unknown; message?: unknown } };
  assert.equal(parsed.jsonrpc, '2.0');
  return { id: parsed.id, code: parsed.error?.code, message: parsed.error?.message };
}
