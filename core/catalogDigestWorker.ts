/**
 * The worker thread of catalogDigests.ts: digests every tool of a catalog text while the
 * language server's main thread parses the policy and runs the other checks. Each answer is
 * posted on the port first, then counted in `signal[0]`, which the main thread waits on.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { definitionDigest } from './pinning';
import { setOwn } from './ownRecord';

export interface DigestRequest {
  id: number;
  text: string;
}

export interface DigestAnswer {
  id: number;
  /** Per server (of those with a tools array), one digest per entry of `tools`; '' for an entry that is no tool or stores no pin. Undefined when the text is not JSON. */
  servers: Record<string, string[]> | undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The tools as readCatalogFileChecked keeps them: a tool without an object inputSchema gets `{"type": "object"}`. */
export function catalogTextDigests(text: string): Record<string, string[]> {
  const parsed: unknown = JSON.parse(text);
  const servers: Record<string, string[]> = {};
  if (!isRecord(parsed) || !isRecord(parsed.servers)) return servers;
  for (const [name, server] of Object.entries(parsed.servers)) {
    if (!isRecord(server) || !Array.isArray(server.tools)) continue;
    setOwn(servers, name, server.tools.map((raw: unknown) => {
      // Only a stored pin is compared with its definition on open (pinDriftChecks.ts).
      if (!isRecord(raw) || typeof raw.name !== 'string' || raw.name.length === 0 || typeof raw.digest !== 'string') return '';
      const tool = isRecord(raw.inputSchema) ? raw : { ...raw, inputSchema: { type: 'object' } };
      return definitionDigest(tool as unknown as { name: string });
    }));
  }
  return servers;
}

const { port, signal } = (workerData ?? {}) as { port?: MessagePort; signal?: Int32Array };
if (port && signal) {
  port.on('message', (request: DigestRequest) => {
    let servers: Record<string, string[]> | undefined;
    try {
      servers = catalogTextDigests(request.text);
    } catch {
      servers = undefined;
    }
    port.postMessage({ id: request.id, servers } satisfies DigestAnswer);
    Atomics.add(signal, 0, 1);
    Atomics.notify(signal, 0);
  });
}
