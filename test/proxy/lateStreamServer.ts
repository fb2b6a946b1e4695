/**
 * A Streamable HTTP MCP server (the SDK's own transport) that sends its requests to the client
 * and its log messages on the standalone GET stream, as servers may, and is slow to accept
 * `notifications/initialized`. Whoever sends it a request before its GET stream is open
 * loses what it sends there: the SDK drops messages for a stream that does not exist.
 * Its tool `log-during-call` logs on the call's own stream instead.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema, SetLevelRequestSchema } from '@modelcontextprotocol/sdk/types.js';

/** Long enough that a request sent without waiting for `initialized` always overtakes it. */
const INITIALIZED_DELAY_MS = 200;

function newServer(): Server {
  const server = new Server({ name: 'late-stream', version: '1.0.0' }, { capabilities: { tools: {}, logging: {} } });
  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: [
      { name: 'ask-sampling', inputSchema: { type: 'object' } },
      { name: 'ask-elicitation', inputSchema: { type: 'object' } },
      { name: 'log-during-call', inputSchema: { type: 'object' } },
    ],
  }));
  // No relatedRequestId: these requests ride the GET stream, not the tools/call's own.
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    if (request.params.name === 'log-during-call') {
      // Related to the call: the SDK sends it on the call's own response stream.
      await extra.sendNotification({ method: 'notifications/message', params: { level: 'info', data: 'during the call' } });
      return { content: [{ type: 'text', text: 'logged' }] };
    }
    if (request.params.name === 'ask-sampling') {
      const sampled = await server.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }], maxTokens: 10 });
      return { content: [{ type: 'text', text: `sampled: ${JSON.stringify(sampled.content)}` }] };
    }
    if (request.params.name === 'ask-elicitation') {
      const elicited = await server.elicitInput({ message: 'name?', requestedSchema: { type: 'object', properties: { name: { type: 'string' } } } });
      return { content: [{ type: 'text', text: `elicited: ${elicited.action}` }] };
    }
    return { content: [{ type: 'text', text: `unknown tool ${request.params.name}` }], isError: true };
  });
  server.setRequestHandler(SetLevelRequestSchema, (request) => {
    void server.sendLoggingMessage({ level: 'info', data: `Log level set to ${request.params.level}` }).catch(() => undefined);
    return {};
  });
  return server;
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of request) text += (chunk as Buffer).toString();
  return text ? JSON.parse(text) : undefined;
}

export interface LateStreamServer {
  url: string;
}

/** `offersGetStream: false` answers every GET with 405, as servers without a standalone stream do. */
export async function startLateStreamServer(t: TestContext, { offersGetStream = true } = {}): Promise<LateStreamServer> {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const http: HttpServer = createServer((request, response) => {
    void (async () => {
      if (request.method === 'GET' && !offersGetStream) {
        response.writeHead(405, { allow: 'POST, DELETE' }).end();
        return;
      }
      const sessionId = request.headers['mcp-session-id'];
      const body = request.method === 'POST' ? await readBody(request) : undefined;
      let transport = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
      if (!transport && request.method === 'POST' && sessionId === undefined) {
        const created = new StreamableHTTPServerTransport({ sessionIdGenerator: randomUUID, onsessioninitialized: (id) => void sessions.set(id, created) });
        await newServer().connect(created);
        transport = created;
      }
      if (!transport) {
        response.writeHead(404).end();
        return;
      }
      if ((body as { method?: unknown } | undefined)?.method === 'notifications/initialized') await new Promise((done) => setTimeout(done, INITIALIZED_DELAY_MS));
      await transport.handleRequest(request, response, body);
    })().catch(() => {
      if (!response.headersSent) response.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    for (const transport of sessions.values()) await transport.close().catch(() => undefined);
    http.closeAllConnections();
    await new Promise((done) => http.close(done));
  });
  return { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp` };
}
