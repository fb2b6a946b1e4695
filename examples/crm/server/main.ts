/**
 * A demo FluentCRM MCP server (stdio): the real server's 36 tool names and input schemas,
 * backed by an in-memory CRM and an outbox instead of WordPress, so the example policy can
 * be tried without a CRM and without mailing anyone.
 *
 * It uses the SDK's low-level Server so tools/list serves the recorded input schemas byte for
 * byte (the high-level McpServer would re-derive them from zod). Like the real server it does
 * not validate arguments. With DEMO_CRM_LOG=FILE it appends every call it receives to FILE.
 * With DEMO_CRM_CHANGES=FILE its tools change while it runs, as FILE says (liveChanges.ts), and
 * it announces each change with notifications/tools/list_changed. DEMO_CRM_PAGE_SIZE=N splits
 * tools/list into pages of N (the real server sends one page), as paginating servers do.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError, type CallToolResult, type ListToolsResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import recorded from './fluentcrm-tools.json';
import { CallLog } from './callLog';
import { CrmStore } from './store';
import { EXTRA_TOOLS, watchChanges } from './liveChanges';
import { CrmError, resolvesTo, runTool, type Args, type ToolOutcome } from './tools';

/** The recorded tools/list, typed as the SDK's Tool: the JSON import widens `"object"` to string. */
const recordedTools = recorded.result.tools as Tool[];
const crm = new CrmStore();
const log = new CallLog(process.env.DEMO_CRM_LOG || undefined);
const changesFile = process.env.DEMO_CRM_CHANGES || undefined;
const pageSize = Number(process.env.DEMO_CRM_PAGE_SIZE ?? '0');

// The real server does not announce list changes; this one does when its tools can change.
const server = new Server(
  { name: recorded.serverInfo.name, version: recorded.serverInfo.version },
  { capabilities: { tools: changesFile ? { listChanged: true } : {} } },
);

let tools: Tool[] = changesFile
  ? watchChanges(changesFile, recordedTools, (changed) => {
      tools = changed;
      void server.sendToolListChanged().catch(() => undefined); // not connected yet: the first list is fresh anyway
    })
  : recordedTools;

server.setRequestHandler(ListToolsRequestSchema, (request): ListToolsResult => {
  if (!Number.isInteger(pageSize) || pageSize <= 0) return { tools };
  const cursor = request.params?.cursor;
  const start = cursor === undefined ? 0 : Number(cursor);
  if (!Number.isInteger(start) || start < 0 || start >= Math.max(tools.length, 1)) throw new McpError(ErrorCode.InvalidParams, `unknown cursor ${JSON.stringify(cursor)}`);
  const end = start + pageSize;
  return end < tools.length ? { tools: tools.slice(start, end), nextCursor: String(end) } : { tools: tools.slice(start) };
});

/** A recorded tool, or one added at run time while it is listed. */
function run(name: string, args: Args): ToolOutcome {
  const extra = EXTRA_TOOLS[name];
  if (extra && tools.some((tool) => tool.name === name)) return extra.run(args, crm);
  if (!recordedTools.some((tool) => tool.name === name) && tools.some((tool) => tool.name === name)) {
    return { request: 'local', result: { message: `${name} ran`, arguments: args } };
  }
  return runTool(name, args, crm);
}

server.setRequestHandler(CallToolRequestSchema, (request): CallToolResult => {
  const { name } = request.params;
  const args: Args = request.params.arguments ?? {};
  try {
    const outcome = run(name, args);
    log.record({
      tool: name,
      arguments: args,
      request: outcome.request,
      ...(outcome.resolvesTo ? { resolvesTo: outcome.resolvesTo } : {}),
      ok: true,
      ...(outcome.sent ? { sent: outcome.sent } : {}),
    });
    return { content: [{ type: 'text', text: JSON.stringify(outcome.result, null, 2) }] };
  } catch (error) {
    const message = (error as Error).message;
    const request = error instanceof CrmError ? error.request : undefined;
    const resolved = request ? resolvesTo(request) : undefined;
    log.record({ tool: name, arguments: args, ...(request ? { request } : {}), ...(resolved ? { resolvesTo: resolved } : {}), ok: false, error: message });
    // The real server answers every failure this way: an isError result, never a JSON-RPC error.
    return { content: [{ type: 'text', text: `❌ Error: ${message}` }], isError: true };
  }
});

async function main(): Promise<void> {
  await server.connect(new StdioServerTransport());
  process.stderr.write(`demo fluentcrm-mcp server running on stdio${process.env.DEMO_CRM_LOG ? `, logging calls to ${process.env.DEMO_CRM_LOG}` : ''}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`demo fluentcrm-mcp server: ${(error as Error).message}\n`);
  process.exit(1);
});
