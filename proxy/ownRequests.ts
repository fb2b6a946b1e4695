/**
 * Requests the proxy makes itself: to the upstream (its tools' input schemas) and to the client
 * (approval by elicitation). The ledger gives them ids and takes their answers only from the
 * side they went to; here they become promises with a timeout or an abort.
 */
import type { TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, RequestId } from './jsonRpc';
import type { OwnRequest, RelayLedger } from './relayLedger';

type Result = Record<string, unknown>;

export interface OwnRequestChannels {
  toClient: (message: JSONRPCMessage, options?: TransportSendOptions) => Promise<void>;
  toUpstream: (message: JSONRPCMessage) => Promise<void>;
}

export function askUpstream<Data>(ledger: RelayLedger<Data>, channels: OwnRequestChannels, method: string, params: Result, timeoutMs: number): Promise<Result> {
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const own = ledger.ownRequest('upstream', method, (answer) => {
      clearTimeout(timer);
      if (answer.error) reject(new Error(answer.error.message));
      else resolve(answer.result ?? {});
    });
    if (typeof own === 'string') return reject(new Error(own));
    timer = setTimeout(() => {
      ledger.withdrawOwn(own);
      reject(new Error(`upstream did not answer ${method}`));
    }, timeoutMs);
    timer.unref();
    channels.toUpstream({ jsonrpc: '2.0', id: own.id, method, params } as JSONRPCMessage).catch((error: Error) => {
      clearTimeout(timer);
      ledger.withdrawOwn(own);
      reject(error);
    });
  });
}

/** Asks the client; aborting withdraws the question with notifications/cancelled. */
export function askClient<Data>(ledger: RelayLedger<Data>, channels: OwnRequestChannels, method: string, params: Result, relatedId: RequestId, signal: AbortSignal): Promise<Result> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      if (!ledger.withdrawOwn(own as OwnRequest)) return;
      void channels.toClient({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: (own as OwnRequest).id, reason: 'the approval is no longer needed' } } as JSONRPCMessage).catch(() => undefined);
      reject(new Error('aborted'));
    };
    const own = ledger.ownRequest('client', method, (answer) => {
      signal.removeEventListener('abort', onAbort);
      if (answer.error) reject(new Error(answer.error.message));
      else resolve(answer.result ?? {});
    });
    if (typeof own === 'string') return reject(new Error(own));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    channels.toClient({ jsonrpc: '2.0', id: own.id, method, params } as JSONRPCMessage, { relatedRequestId: relatedId }).catch((error: Error) => {
      signal.removeEventListener('abort', onAbort);
      ledger.withdrawOwn(own);
      reject(error);
    });
  });
}
