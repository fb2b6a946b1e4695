/** Just enough JSON-RPC shape-checking for a relay that forwards messages as they are. */
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';

export type { JSONRPCMessage, RequestId };

export interface RpcRequest {
  jsonrpc: '2.0';
  id: RequestId;
  method: string;
  params?: Record<string, unknown>;
}

export interface RpcNotification {
  jsonrpc: '2.0';
  method: string;
  params?: Record<string, unknown>;
}

export interface RpcResponse {
  jsonrpc: '2.0';
  id: RequestId;
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: unknown };
}

type Loose = Record<string, unknown>;

export function isRequest(message: JSONRPCMessage): message is JSONRPCMessage & RpcRequest {
  const loose = message as Loose;
  return typeof loose.method === 'string' && loose.id !== undefined;
}

export function isNotification(message: JSONRPCMessage): message is JSONRPCMessage & RpcNotification {
  const loose = message as Loose;
  return typeof loose.method === 'string' && loose.id === undefined;
}

export function isResponse(message: JSONRPCMessage): message is JSONRPCMessage & RpcResponse {
  const loose = message as Loose;
  return loose.method === undefined && loose.id !== undefined && ('result' in loose || 'error' in loose);
}

export function resultMessage(id: RequestId, result: Record<string, unknown>): JSONRPCMessage {
  return { jsonrpc: '2.0', id, result } as JSONRPCMessage;
}

export function errorMessage(id: RequestId, code: number, message: string): JSONRPCMessage {
  return { jsonrpc: '2.0', id, error: { code, message } } as JSONRPCMessage;
}

export function asMessage(value: RpcRequest | RpcNotification): JSONRPCMessage {
  return value as JSONRPCMessage;
}

export const INTERNAL_ERROR = -32603;
export const INVALID_PARAMS = -32602;

/**
 * Requests the proxy makes itself carry string ids with this prefix: upstream servers and MCP
 * clients number their own requests, so the two never collide, and the answers are recognised.
 */
export const OWN_ID_PREFIX = 'mcp-policy-';

export function isOwnId(id: RequestId): boolean {
  return typeof id === 'string' && id.startsWith(OWN_ID_PREFIX);
}

export function objectOrUndefined(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
