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

/** Tests and scripts read the URL and token from these lines. */
export function printListening(status: ProxyHostStatus): void {
  for (const server of status.servers) writeStderr(`mcp-policy: guarding ${server.name} at ${server.url}\n`);
  writeStderr(`mcp-policy: bearer token: ${status.token}${status.tokenFile ? ` (also in ${status.tokenFile})` : ''}\n`);
  writeStderr(`mcp-policy: listening on http://${status.host}:${status.port}\n`);
}
