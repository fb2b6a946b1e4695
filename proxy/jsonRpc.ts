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
export const INVALID_REQUEST = -32600;
export const PARSE_ERROR = -32700;

/**
 * A message as the relay sees it. Every message from either side is sorted into exactly one of
 * these before anything looks at it, so a shape the relay does not understand can never be
 * taken for another (a request without an id is not a notification unless it says it is one).
 */
export type Classified =
  | { kind: 'request'; id: RequestId; method: string; params: Record<string, unknown> | undefined }
  | { kind: 'notification'; method: string; params: Record<string, unknown> | undefined }
  | { kind: 'response'; id: RequestId; result?: Record<string, unknown>; error?: { code: number; message: string } }
  | { kind: 'invalid'; id: RequestId | undefined; method: string | undefined; why: string };

export function isRequestId(value: unknown): value is RequestId {
  return typeof value === 'string' || Number.isInteger(value);
}

export function classify(message: unknown): Classified {
  const loose = objectOrUndefined(message);
  if (!loose) return { kind: 'invalid', id: undefined, method: undefined, why: 'not a JSON-RPC message: expected an object' };
  const id = isRequestId(loose.id) ? loose.id : undefined;
  const method = typeof loose.method === 'string' ? loose.method : undefined;
  const invalid = (why: string): Classified => ({ kind: 'invalid', id, method, why });
  if (loose.jsonrpc !== '2.0') return invalid('not a JSON-RPC 2.0 message: "jsonrpc" must be "2.0"');
  const hasId = 'id' in loose;
  if ('method' in loose) {
    if (method === undefined) return invalid('"method" must be a string');
    if (hasId && id === undefined) return invalid('a request\'s "id" must be a string or an integer');
    if ('result' in loose || 'error' in loose) return invalid('a message with "method" cannot carry "result" or "error"');
    // JSON-RPC allows params by position; MCP has none, but they are forwarded as they came (and a tools/call with them is refused).
    if (loose.params !== undefined && (loose.params === null || typeof loose.params !== 'object')) return invalid('"params" must be an object or an array');
    const params = objectOrUndefined(loose.params);
    return id !== undefined ? { kind: 'request', id, method, params } : { kind: 'notification', method, params };
  }
  if (id === undefined) return invalid('a response needs the "id" (a string or an integer) of the request it answers');
  const hasResult = 'result' in loose;
  const hasError = 'error' in loose;
  if (hasResult === hasError) return invalid('a response carries exactly one of "result" and "error"');
  if (hasResult) {
    const result = objectOrUndefined(loose.result);
    return result ? { kind: 'response', id, result } : invalid('"result" must be an object');
  }
  const error = objectOrUndefined(loose.error);
  if (!error || !Number.isInteger(error.code) || typeof error.message !== 'string') return invalid('"error" must be an object with an integer "code" and a string "message"');
  return { kind: 'response', id, error: error as { code: number; message: string } };
}

/** Ids of requests the proxy makes itself start with this, so they read as ours in a trace. */
export const OWN_ID_PREFIX = 'mcp-policy-';

export function objectOrUndefined(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
