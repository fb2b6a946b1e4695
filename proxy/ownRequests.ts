/**
 * Requests the proxy makes itself: to the client (approval by elicitation) and to the
 * upstream (its tools' input schemas). Their ids carry OWN_ID_PREFIX, so they cannot collide
 * with the client's or the upstream's, and their answers are never relayed.
 */
import type { TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import { isOwnId, OWN_ID_PREFIX, type JSONRPCMessage, type RequestId } from './jsonRpc';

type Result = Record<string, unknown>;

interface Waiting {
  resolve: (result: Result) => void;
  reject: (error: Error) => void;
  upstream: boolean;
}

export interface OwnRequestChannels {
  toClient: (message: JSONRPCMessage, options?: TransportSendOptions) => Promise<void>;
  toUpstream: (message: JSONRPCMessage) => Promise<void>;
}

export class OwnRequests {
  private readonly waiting = new Map<string, Waiting>();
  private count = 0;

  constructor(private readonly channels: OwnRequestChannels) {}

  /**
   * Takes an answer to one of ours, or drops it when the question was withdrawn (a late
   * approval): it must never be relayed. False when the message answers someone else.
   */
  settle(message: { id: RequestId; result?: Result; error?: { message: string } }): boolean {
    if (!isOwnId(message.id)) return false;
    const waiting = this.waiting.get(String(message.id));
    if (!waiting) return true;
    this.waiting.delete(String(message.id));
    if (message.error) waiting.reject(new Error(message.error.message));
    else waiting.resolve(message.result ?? {});
    return true;
  }

  /** Asks the client; aborting withdraws the question with notifications/cancelled. */
  askClient(method: string, params: Result, relatedId: RequestId, signal: AbortSignal): Promise<Result> {
    const id = `${OWN_ID_PREFIX}down-${++this.count}`;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, upstream: false });
      signal.addEventListener('abort', () => {
        if (!this.waiting.delete(id)) return;
        void this.channels.toClient({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'the approval is no longer needed' } } as JSONRPCMessage).catch(() => undefined);
        reject(new Error('aborted'));
      });
      this.channels.toClient({ jsonrpc: '2.0', id, method, params } as JSONRPCMessage, { relatedRequestId: relatedId }).catch((error: Error) => {
        this.waiting.delete(id);
        reject(error);
      });
    });
  }

  askUpstream(method: string, params: Result, timeoutMs: number): Promise<Result> {
    const id = `${OWN_ID_PREFIX}up-${++this.count}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`upstream did not answer ${method}`));
      }, timeoutMs);
      timer.unref();
      const settle: Waiting = {
        resolve: (value) => (clearTimeout(timer), resolve(value)),
        reject: (error) => (clearTimeout(timer), reject(error)),
        upstream: true,
      };
      this.waiting.set(id, settle);
      this.channels.toUpstream({ jsonrpc: '2.0', id, method, params } as JSONRPCMessage).catch((error: Error) => {
        this.waiting.delete(id);
        settle.reject(error);
      });
    });
  }

  /** The upstream died: what we asked it will never be answered. */
  upstreamFailed(reason: string): void {
    for (const [id, waiting] of this.waiting) {
      if (!waiting.upstream) continue;
      this.waiting.delete(id);
      waiting.reject(new Error(reason));
    }
  }

  closeAll(): void {
    for (const waiting of this.waiting.values()) waiting.reject(new Error('the session closed'));
    this.waiting.clear();
  }
}
