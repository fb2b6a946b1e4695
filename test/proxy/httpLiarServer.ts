/**
 * A lying MCP server over Streamable HTTP, in the test's own process, for attack tests of the
 * proxy's HTTP upstream client (proxy/httpUpstream.ts). It records every message POSTed to it
 * and answers tools/call as the call's `mode` argument says:
 *   - "forge": on the call's SSE stream, an answer to an id it was never asked, then the real
 *     answer, then a second answer to the same id; and an answer to that id on its GET stream;
 *   - "huge": an SSE event that never ends (more than the proxy's 10 MiB cap, no blank line);
 *   - "vanish": one ping event with an id, then the stream ends without an answer, and every
 *     resume (GET with Last-Event-ID) ends at once, empty;
 *   - anything else: the arguments echoed back as JSON;
 * and a call with `rawResult` (JSON text) is answered with that result as written, on SSE, or as
 * a JSON body when `mode` is "json".
 * A real server cannot be made to lie on cue, hence this.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';

type Message = Record<string, unknown> & { id?: string | number; method?: string; params?: Record<string, unknown> };

export interface HttpLiar {
  url: string;
  /** Every JSON-RPC message POSTed to the server, in order. */
  readonly received: Message[];
  /** GET requests that asked to resume a stream (Last-Event-ID), in order. */
  readonly resumes: string[];
}

const TOOLS = [
  { name: 'echo', description: 'Echoes its arguments', inputSchema: { type: 'object' } },
  { name: 'denied_tool', description: 'Never allowed', inputSchema: { type: 'object' } },
];
const SESSION = 'liar-session';

function sse(response: ServerResponse): void {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'mcp-session-id': SESSION });
}

function event(response: ServerResponse, message: unknown, id?: string): void {
  response.write(`${id ? `id: ${id}\n` : ''}data: ${JSON.stringify(message)}\n\n`);
}

export async function startHttpLiar(t: TestContext): Promise<HttpLiar> {
  const received: Message[] = [];
  const resumes: string[] = [];
  const getStreams = new Set<ServerResponse>();
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    if (request.method === 'GET') {
      const resumeFrom = request.headers['last-event-id'];
      if (typeof resumeFrom === 'string') {
        resumes.push(resumeFrom);
        sse(response);
        response.end();
        return;
      }
      sse(response);
      response.write(': open\n\n');
      getStreams.add(response);
      response.on('close', () => getStreams.delete(response));
      return;
    }
    if (request.method === 'DELETE') return void response.writeHead(200).end();
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const message = JSON.parse(body) as Message;
      received.push(message);
      if (message.id === undefined || message.method === undefined) return void response.writeHead(202, { 'mcp-session-id': SESSION }).end();
      const answer = (result: unknown): Record<string, unknown> => ({ jsonrpc: '2.0', id: message.id, result });
      if (message.method === 'initialize') {
        response.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': SESSION });
        return void response.end(JSON.stringify(answer({ protocolVersion: '2025-06-18', capabilities: { tools: {} }, serverInfo: { name: 'http-liar', version: '1' } })));
      }
      if (message.method === 'tools/list') {
        response.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': SESSION });
        return void response.end(JSON.stringify(answer({ tools: TOOLS })));
      }
      if (message.method !== 'tools/call') {
        response.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': SESSION });
        return void response.end(JSON.stringify(answer({})));
      }
      const args = (message.params?.arguments ?? {}) as Record<string, unknown>;
      if (typeof args['rawResult'] === 'string') {
        // The answer's result as JSON text written by hand (numbers no JavaScript value holds), as JSON or on SSE.
        const raw = `{"jsonrpc":"2.0","id":${JSON.stringify(message.id)},"result":${args['rawResult']}}`;
        if (args['mode'] === 'json') return void response.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': SESSION }).end(raw);
        sse(response);
        return void response.end(`data: ${raw}\n\n`);
      }
      const text = (value: string): unknown => answer({ content: [{ type: 'text', text: value }] });
      sse(response);
      if (args['mode'] === 'forge') {
        event(response, { jsonrpc: '2.0', id: 424242, result: { content: [{ type: 'text', text: 'FORGED: never asked' }] } });
        for (const stream of getStreams) event(stream, text('FORGED: on the GET stream'));
        event(response, text(`real: ${JSON.stringify(args)}`));
        event(response, text('FORGED: a second answer'));
        return void response.end();
      }
      if (args['mode'] === 'huge') {
        response.write('data: "');
        const block = 'x'.repeat(1024 * 1024);
        let sent = 0;
        const pump = (): void => {
          while (sent < 12 && !response.destroyed) {
            sent++;
            if (!response.write(block)) return void response.once('drain', pump);
          }
        };
        return void pump();
      }
      if (args['mode'] === 'vanish') {
        response.write(`id: vanish-1\nevent: ping\ndata: {}\n\n`);
        return void response.end();
      }
      event(response, text(`real: ${JSON.stringify(args)}`));
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        for (const stream of getStreams) stream.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`, received, resumes };
}
