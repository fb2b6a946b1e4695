/**
 * A client that sends raw JSON-RPC, for what well-behaved SDK clients never send: reused ids,
 * forged answers, notifications with request methods, batches. Over stdio it writes lines to
 * `mcp-policy proxy`; over HTTP it POSTs to `mcp-policy proxy --port` and reads every answer
 * (JSON or event stream) and the session's GET stream.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { TestContext } from 'node:test';
import { cli, startHttpCli, tempFolder, type Mode } from './helpers';

export type Message = Record<string, unknown> & { id?: unknown; method?: string; result?: Record<string, unknown>; error?: { code: number; message: string } };

export interface RawClient {
  /** One message, or an array sent as one batch. */
  send(message: unknown): Promise<void>;
  /** A message as JSON text written by hand (numbers no JavaScript value holds). */
  sendText(text: string): Promise<void>;
  /** Everything the proxy sent, in arrival order. */
  readonly received: Message[];
  /** The same, each message's text as it came. */
  readonly texts: string[];
  /** HTTP statuses of POSTs that were refused (4xx/5xx), with their bodies. */
  readonly refusals: Array<{ status: number; body: string }>;
  waitFor(match: (message: Message) => boolean, what: string, timeoutMs?: number): Promise<Message>;
  /** Initialize and initialized, with these client capabilities. */
  handshake(capabilities?: Record<string, unknown>): Promise<void>;
  readonly child: ChildProcess;
  stderr(): string;
}

const INITIALIZE = (capabilities: Record<string, unknown>): Record<string, unknown> => ({
  jsonrpc: '2.0',
  id: 'init',
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities, clientInfo: { name: 'raw-attacker', version: '1' } },
});

function withWaits(base: Omit<RawClient, 'waitFor' | 'handshake'>): RawClient {
  const client: RawClient = {
    ...base,
    async waitFor(match, what, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = base.received.find(match);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no ${what}; received ${JSON.stringify(base.received).slice(0, 2000)}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    async handshake(capabilities = {}) {
      await base.send(INITIALIZE(capabilities));
      await client.waitFor((message) => message.id === 'init', 'initialize answer');
      await base.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    },
  };
  return client;
}

export async function rawStdio(t: TestContext, args: string[], env: Record<string, string>): Promise<RawClient> {
  const child = spawn(process.execPath, [cli, 'proxy', ...args], { env: { ...process.env, HOME: tempFolder(t), ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  const received: Message[] = [];
  const texts: string[] = [];
  let errText = '';
  child.stderr!.on('data', (chunk: Buffer) => (errText += chunk.toString()));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    texts.push(line);
    try {
      received.push(JSON.parse(line) as Message);
    } catch {
      received.push({ unparsable: line });
    }
  });
  return withWaits({
    child,
    received,
    texts,
    refusals: [],
    stderr: () => errText,
    send: (message) => sendText(JSON.stringify(message)),
    sendText,
  });
  function sendText(text: string): Promise<void> {
    return new Promise<void>((resolve, reject) => child.stdin!.write(`${text}\n`, (error) => (error ? reject(error) : resolve())));
  }
}

export async function rawHttp(t: TestContext, args: string[], env: Record<string, string>): Promise<RawClient> {
  const proxy = await startHttpCli(t, ['proxy', ...args.slice(0, 1), '--port', '0', ...args.slice(1)], env);
  const received: Message[] = [];
  const texts: string[] = [];
  const refusals: Array<{ status: number; body: string }> = [];
  let sessionId: string | undefined;
  let getOpened = false;
  const headers = (): Record<string, string> => ({
    authorization: `Bearer ${proxy.token}`,
    accept: 'application/json, text/event-stream',
    'content-type': 'application/json',
    ...(sessionId ? { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' } : {}),
  });
  const controllers = new Set<AbortController>();
  t.after(() => {
    for (const controller of controllers) controller.abort();
  });
  const readStream = async (response: Response): Promise<void> => {
    const type = response.headers.get('content-type') ?? '';
    if (type.includes('application/json')) {
      const text = await response.text();
      texts.push(text);
      const body = JSON.parse(text) as Message | Message[];
      received.push(...(Array.isArray(body) ? body : [body]));
      return;
    }
    if (!response.body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = event
            .split('\n')
            .filter((line) => line.startsWith('data:'))
            .map((line) => line.slice(5).trimStart())
            .join('\n');
          if (data) {
            texts.push(data);
            received.push(JSON.parse(data) as Message);
          }
        }
      }
    } catch {
      // aborted at the end of the test
    }
  };
  const openGet = (): void => {
    const controller = new AbortController();
    controllers.add(controller);
    void fetch(proxy.url, { method: 'GET', headers: { ...headers(), accept: 'text/event-stream' }, signal: controller.signal })
      .then((response) => (response.ok ? readStream(response) : undefined))
      .catch(() => undefined);
  };
  return withWaits({
    child: proxy.child,
    received,
    texts,
    refusals,
    stderr: proxy.stderr,
    send: (message) => sendText(JSON.stringify(message)),
    sendText,
  });
  async function sendText(text: string): Promise<void> {
    const controller = new AbortController();
    controllers.add(controller);
    const response = await fetch(proxy.url, { method: 'POST', headers: headers(), body: text, signal: controller.signal });
    const given = response.headers.get('mcp-session-id');
    if (given && !sessionId) sessionId = given;
    if (response.status >= 400) {
      refusals.push({ status: response.status, body: await response.text() });
      return;
    }
    if (response.status === 202) return;
    // Answers arrive in the background: a request may wait on others.
    void readStream(response).finally(() => controllers.delete(controller));
    if (sessionId && !getOpened) {
      getOpened = true;
      openGet();
    }
  }
}

export function rawClient(t: TestContext, mode: Mode, args: string[], env: Record<string, string>): Promise<RawClient> {
  return mode === 'stdio' ? rawStdio(t, args, env) : rawHttp(t, args, env);
}
