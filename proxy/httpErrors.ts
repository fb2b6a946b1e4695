/**
 * The listener's own HTTP refusals, as JSON-RPC error bodies (like the SDK's): a client library
 * can read them, and the id is the request's wherever the body was read and named one.
 */
import type { ServerResponse } from 'node:http';
import { objectOrUndefined, type RequestId } from './jsonRpc';

/** JSON-RPC 2.0: an error the server cannot tie to a request carries `id: null`. */
export type ErrorId = RequestId | null;

/** Codes the SDK's transport uses for the same refusals. */
export const TRANSPORT_ERROR = -32000;
export const SESSION_NOT_FOUND = -32001;
export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;

/** The id of a single request in a POST body; null for a batch, a notification or no body. */
export function requestIdOf(body: unknown): ErrorId {
  const id = objectOrUndefined(body)?.id;
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}

export function sendJsonRpcError(res: ServerResponse, status: number, code: number, message: string, id: ErrorId = null, headers: Record<string, string> = {}): void {
  const body = JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id });
  res.writeHead(status, { ...headers, 'content-type': 'application/json' }).end(body);
}
