/**
 * The events of one HTTP session's streams, kept so a client whose stream broke can resume it
 * (`Last-Event-ID`) and miss nothing: a call's answer sent while it was reconnecting included.
 * Bounded, because a session may live long: the oldest events go first.
 */
import type { EventStore } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { JSONRPCMessage } from './jsonRpc';

const MAX_EVENTS = 500;
const MAX_BYTES = 16 * 1024 * 1024;

interface StoredEvent {
  id: string;
  streamId: string;
  message: JSONRPCMessage;
  bytes: number;
}

export class SessionEventStore implements EventStore {
  private readonly events: StoredEvent[] = [];
  private bytes = 0;
  private sequence = 0;

  constructor(
    private readonly maxEvents = MAX_EVENTS,
    private readonly maxBytes = MAX_BYTES,
  ) {}

  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    const event: StoredEvent = { id: String(++this.sequence), streamId, message, bytes: JSON.stringify(message).length };
    this.events.push(event);
    this.bytes += event.bytes;
    while (this.events.length > this.maxEvents || (this.bytes > this.maxBytes && this.events.length > 1)) this.bytes -= this.events.shift()!.bytes;
    return event.id;
  }

  async getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    return this.events.find((event) => event.id === eventId)?.streamId;
  }

  async replayEventsAfter(lastEventId: string, { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> }): Promise<string> {
    const index = this.events.findIndex((event) => event.id === lastEventId);
    if (index < 0) throw new Error(`event ${lastEventId} is not kept any more (or never was): reconnect without Last-Event-ID`);
    const { streamId } = this.events[index]!;
    for (const event of this.events.slice(index + 1)) if (event.streamId === streamId) await send(event.id, event.message);
    return streamId;
  }
}
