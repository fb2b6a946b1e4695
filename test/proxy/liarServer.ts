/**
 * A stand-in MCP server for attack tests: it records every message it receives (one JSON line
 * each in SPY_LOG), runs every tools/call it gets — even one sent as a notification, as a
 * careless JSON-RPC server would — and can lie on request: a tools/call whose arguments carry
 * `forge` makes it first send the message in `forge` to the proxy (an answer to a question it
 * was not asked, a request, anything), `rawForge` the same as JSON text as written; `delayMs`
 * makes it answer that late; `rawAnswer` is the answer's JSON text as written (LIAR_RAW_TOOLS_RESULT:
 * the tools/list result's, for numbers no JavaScript value holds). A call with a
 * progress token gets one progress notification first. A real server cannot be made to lie on cue, hence this.
 *
 * Tools: echo (any arguments), validated ({n: integer}), and the ones the tests' policies
 * forbid: secret_delete, denied_tool, needs_approval. LIAR_PAGE_SIZE=N pages tools/list;
 * LIAR_EXTRA_TOOLS (a JSON array) lists more tools, defined as the test wants them.
 */
import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const log = process.env.SPY_LOG;
const pageSize = Number(process.env.LIAR_PAGE_SIZE ?? '0');

const tools = [
  { name: 'echo', description: 'Echoes its arguments', inputSchema: { type: 'object' } },
  { name: 'secret_delete', description: 'Deletes everything', inputSchema: { type: 'object' } },
  { name: 'denied_tool', description: 'Never allowed', inputSchema: { type: 'object' } },
  { name: 'needs_approval', description: 'Needs a person', inputSchema: { type: 'object' } },
  {
    name: 'validated',
    description: 'Takes an integer',
    inputSchema: { type: 'object', properties: { n: { type: 'integer' }, nonce: { type: 'string' } }, required: ['n'] },
  },
  ...(JSON.parse(process.env.LIAR_EXTRA_TOOLS ?? '[]') as unknown[]),
];

type Message = Record<string, unknown> & { id?: unknown; method?: unknown; params?: Record<string, unknown> };

function send(message: unknown): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

function listPage(cursor: unknown): Record<string, unknown> {
  if (!pageSize) return { tools };
  const start = typeof cursor === 'string' ? Number(cursor) : 0;
  const page = tools.slice(start, start + pageSize);
  return start + pageSize < tools.length ? { tools: page, nextCursor: String(start + pageSize) } : { tools: page };
}

createInterface({ input: process.stdin }).on('line', (line) => {
  if (log) appendFileSync(log, `${line}\n`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return;
  }
  for (const message of (Array.isArray(parsed) ? parsed : [parsed]) as Message[]) handle(message);
});

function handle(message: Message): void {
  const { id, method, params } = message;
  if (method === 'tools/call') {
    const args = (params?.arguments ?? {}) as Record<string, unknown>;
    if (args.forge !== undefined) send(args.forge);
    if (typeof args.rawForge === 'string') process.stdout.write(`${args.rawForge}\n`);
    const token = (params?._meta as { progressToken?: unknown } | undefined)?.progressToken;
    if (token !== undefined) send({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: token, progress: 1, total: 2 } });
    // `rawAnswer`: the answer's text as written ("ID" stands for the request's id), for numbers no JavaScript value holds.
    const answer = (): void =>
      typeof args.rawAnswer === 'string'
        ? void process.stdout.write(`${args.rawAnswer.replace('ID', JSON.stringify(id))}\n`)
        : send({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: `ran ${String(params?.name)}` }] } });
    if (id !== undefined) setTimeout(answer, Number(args.delayMs ?? 0));
    return;
  }
  if (id === undefined || typeof method !== 'string') return;
  if (method === 'initialize') {
    send({ jsonrpc: '2.0', id, result: { protocolVersion: (params?.protocolVersion as string) ?? '2025-06-18', capabilities: { tools: { listChanged: true } }, serverInfo: { name: 'liar', version: '1.0.0' } } });
  } else if (method === 'tools/list') {
    const delay = Number(process.env.LIAR_LIST_DELAY_MS ?? '0');
    const raw = process.env.LIAR_RAW_TOOLS_RESULT;
    const answer = (): void => (raw ? void process.stdout.write(`{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${raw}}\n`) : send({ jsonrpc: '2.0', id, result: listPage(params?.cursor) }));
    setTimeout(answer, delay);
  } else if (method === 'ping') {
    send({ jsonrpc: '2.0', id, result: {} });
  } else {
    send({ jsonrpc: '2.0', id, error: { code: -32601, message: `no method ${method}` } });
  }
}
