/** server-everything over Streamable HTTP as a `--url` upstream, and clients that answer its requests. */
import { spawn, type ChildProcess } from 'node:child_process';
import type { TestContext } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CreateMessageRequestSchema, ElicitRequestSchema, ListRootsRequestSchema, LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { bin, freePort, killGroup } from './helpers';

export { freePort };


export interface EverythingHttp {
  url: string;
  port: number;
  child: ChildProcess;
  /** SIGKILLs the server and waits until it is gone. */
  kill: () => Promise<void>;
}

/** Starts `PORT=P mcp-server-everything streamableHttp`; resolves once it listens. It is killed after the test. */
export async function startEverythingHttp(t: TestContext, port?: number): Promise<EverythingHttp> {
  const chosen = port ?? (await freePort());
  const child = spawn(bin('mcp-server-everything'), ['streamableHttp'], { detached: true, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, PORT: String(chosen) } });
  t.after(() => killGroup(child));
  let text = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server-everything did not start:\n${text}`)), 15000);
    child.stderr!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (/listening on port/.test(text)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server-everything exited with ${code}:\n${text}`));
    });
  });
  child.stderr!.resume();
  const kill = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    killGroup(child);
    await gone;
  };
  return { url: `http://127.0.0.1:${chosen}/mcp`, port: chosen, child, kill };
}

/** What a client saw of the server's requests and log messages. */
export interface ClientSide {
  sampled: number;
  elicited: number;
  rootsListed: number;
  logs: string[];
}

export const answeringCapabilities = { sampling: {}, elicitation: {}, roots: { listChanged: true } };

/** Installs handlers that answer sampling, elicitation and roots/list, and record log messages. */
export function answerServerRequests(client: Client, seen: ClientSide): void {
  client.setRequestHandler(CreateMessageRequestSchema, () => {
    seen.sampled++;
    return { model: 'test-model', role: 'assistant', content: { type: 'text', text: 'sampled answer' } };
  });
  client.setRequestHandler(ElicitRequestSchema, () => {
    seen.elicited++;
    return { action: 'decline' };
  });
  client.setRequestHandler(ListRootsRequestSchema, () => {
    seen.rootsListed++;
    return { roots: [{ uri: 'file:///tmp', name: 'tmp' }] };
  });
  client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
    seen.logs.push(typeof notification.params.data === 'string' ? notification.params.data : JSON.stringify(notification.params.data));
  });
}

export function newClientSide(): ClientSide {
  return { sampled: 0, elicited: 0, rootsListed: 0, logs: [] };
}
