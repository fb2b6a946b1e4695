/** Option parsing and the start-up lines shared by `proxy --port` and `serve`. */
import type { ProxyHostStatus } from '../host';
import { UsageError } from '../cliSupport';
import { writeStderr } from '../stderrLine';

export function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number, not "${text}"`);
  return port;
}

export function parseSeconds(text: string | undefined, option: string): number | undefined {
  if (text === undefined) return undefined;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`${option} must be a number of seconds, not "${text}"`);
  return seconds * 1000;
}

export function parseCount(text: string | undefined, option: string): number | undefined {
  if (text === undefined) return undefined;
  const count = Number(text);
  if (!Number.isInteger(count) || count < 1) throw new UsageError(`${option} must be a whole number of at least 1, not "${text}"`);
  return count;
}

/** `--session-idle S` and `--max-sessions N`, shared by `proxy --port` and `serve`. */
export const sessionOptions = {
  'session-idle': { type: 'string' },
  'max-sessions': { type: 'string' },
} as const;

export function sessionLimits(values: { 'session-idle'?: string | undefined; 'max-sessions'?: string | undefined }): { sessionIdleMs?: number; maxSessions?: number } {
  const sessionIdleMs = parseSeconds(values['session-idle'], '--session-idle');
  const maxSessions = parseCount(values['max-sessions'], '--max-sessions');
  return { ...(sessionIdleMs !== undefined ? { sessionIdleMs } : {}), ...(maxSessions !== undefined ? { maxSessions } : {}) };
}

/** Tests and scripts read the URL and token from these lines. */
export function printListening(status: ProxyHostStatus): void {
  for (const server of status.servers) writeStderr(`mcp-policy: guarding ${server.name} at ${server.url}\n`);
  writeStderr(`mcp-policy: bearer token: ${status.token}${status.tokenFile ? ` (also in ${status.tokenFile})` : ''}\n`);
  writeStderr(`mcp-policy: listening on http://${status.host}:${status.port}\n`);
  for (const problem of status.problems) writeStderr(`mcp-policy: ${problem.message}; its calls fail until the policy or the machine is fixed\n`);
}
