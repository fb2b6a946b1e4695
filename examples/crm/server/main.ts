/**
 * A demo FluentCRM MCP server (stdio): the real server's 36 tool names and input schemas,
 * backed by an in-memory CRM and an outbox instead of WordPress, so the example policy can
 * be tried without a CRM and without mailing anyone.
 *
 * It uses the SDK's low-level Server so tools/list serves the recorded input schemas byte for
 * byte (the high-level McpServer would re-derive them from zod). Like the real server it does
 * not validate arguments. With DEMO_CRM_LOG=FILE it appends every call it receives to FILE.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import recorded from './fluentcrm-tools.json';
import { CallLog } from './callLog';
import { CrmStore } from './store';
import { CrmError, resolvesTo, runTool, type Args } from './tools';

/** The recorded tools/list, typed as the SDK's Tool: the JSON import widens `"object"` to string. */
const tools = recorded.result.tools as Tool[];
const crm = new CrmStore();
const log = new CallLog(process.env.DEMO_CRM_LOG || undefined);

const server = new Server({ name: recorded.serverInfo.name, version: recorded.serverInfo.version }, { capabilities: { tools: {} } });

server.setRequestHandler(ListToolsRequestSchema, () => ({ tools }));

server.setRequestHandler(CallToolRequestSchema, (request): CallToolResult => {
  const { name } = request.params;
  const args: Args = request.params.arguments ?? {};
  try {
    const outcome = runTool(name, args, crm);
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
