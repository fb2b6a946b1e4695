// One SDK server with an echo tool on Streamable HTTP, its transport configured three ways, to see what the priming event costs: store (an event store), plain, json (enableJsonResponse).
// node bench/probes/primingServer.mjs PORT store|plain|json
import { createRequire } from 'node:module';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
const require = createRequire(new URL('../../package.json', import.meta.url));
const { StreamableHTTPServerTransport } = require('@modelcontextprotocol/sdk/server/streamableHttp.js');
const { McpServer } = require('@modelcontextprotocol/sdk/server/mcp.js');
const { InMemoryEventStore } = require('@modelcontextprotocol/sdk/examples/shared/inMemoryEventStore.js');
const [port, mode] = process.argv.slice(2);
const transports = new Map();
http.createServer(async (req, res) => {
  let body = '';
  for await (const c of req) body += c;
  const parsed = body ? JSON.parse(body) : undefined;
  const sid = req.headers['mcp-session-id'];
  let t = sid && transports.get(sid);
  if (!t) {
    t = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID(), onsessioninitialized: (id) => transports.set(id, t),
      ...(mode === 'store' ? { eventStore: new InMemoryEventStore() } : {}), ...(mode === 'json' ? { enableJsonResponse: true } : {}) });
    const s = new McpServer({ name: 'v', version: '1' });
    s.tool('echo', { message: require('zod').string() }, async ({ message }) => ({ content: [{ type: 'text', text: `Echo: ${message}` }] }));
    await s.connect(t);
  }
  await t.handleRequest(req, res, parsed);
}).listen(Number(port), '127.0.0.1');
