/**
 * Counters in Redis, for budgets shared by several machines. One Lua script per reservation
 * checks and admits every budget of a call at once (Redis runs a script without
 * interleaving), with Redis's own clock so machines whose clocks differ still agree. Each
 * budget is a sorted set of admission times that expires by itself one window after its
 * newest admission.
 */
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { NO_LIMITS, uniqueChecks, type CounterStore, type LimitCheck, type ReserveResult, type StoreHealth } from '../counters';

const KEY_PREFIX = 'mcp-policy:counter:';

/** KEYS: budgets. ARGV[1]: the admission's member; then window ms and max for each key. */
const RESERVE_SCRIPT = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local blocked = 0
local retry = 0
for i, key in ipairs(KEYS) do
  local window = tonumber(ARGV[2 * i])
  local max = tonumber(ARGV[2 * i + 1])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local count = redis.call('ZCARD', key)
  if count >= max then
    if blocked == 0 then blocked = i end
    local leaving = redis.call('ZRANGE', key, count - max, count - max, 'WITHSCORES')
    local wait = tonumber(leaving[2]) + window - now
    if wait > retry then retry = wait end
  end
end
if blocked > 0 then
  return {0, blocked - 1, math.max(1, math.ceil(retry))}
end
for i, key in ipairs(KEYS) do
  local window = tonumber(ARGV[2 * i])
  redis.call('ZADD', key, now, ARGV[1])
  if redis.call('PTTL', key) < window then redis.call('PEXPIRE', key, window) end
end
return {1, now}
`;

type ReserveCommand = (numberOfKeys: number, ...args: Array<string | number>) => Promise<[number, number, number?]>;

/** A first call may come while the connection is still being made: it waits this long for it. */
const READY_WAIT_MS = 1000;

export class RedisCounterStore implements CounterStore {
  readonly description: string;
  private readonly redis: Redis;
  private readonly idPrefix = randomBytes(6).toString('base64url');
  private sequence = 0;
  private readonly healthListeners: Array<(health: StoreHealth) => void> = [];
  private down: string | undefined;
  private lastError = 'not connected yet';

  constructor(url: string) {
    const parsed = new URL(url);
    this.description = `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
    this.redis = new Redis(url, {
      // Fail fast: a call waiting for a dead store would hold the agent; it is refused instead.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 2000,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(100 * times, 1000),
    });
    this.redis.defineCommand('mcpPolicyReserve', { lua: RESERVE_SCRIPT });
    this.redis.on('error', (error: Error) => {
      this.lastError = error.message;
      this.markDown(`the counter store ${this.description} cannot be reached: ${error.message}`);
    });
    this.redis.on('close', () => this.markDown(`the counter store ${this.description} closed the connection`));
    this.redis.on('ready', () => this.markUp());
  }

  async reserve(_now: number, checks: readonly LimitCheck[]): Promise<ReserveResult> {
    if (checks.length === 0) return { outcome: 'admitted', reservation: NO_LIMITS };
    const { unique, firstIndex } = uniqueChecks(checks);
    const member = `${this.idPrefix}:${(++this.sequence).toString(36)}`;
    const keys = unique.map((check) => KEY_PREFIX + check.key);
    const args: Array<string | number> = [...keys, member];
    for (const check of unique) args.push(Math.ceil(check.windowMs), check.max);
    try {
      await this.whenReady();
      const reserve = (this.redis as unknown as { mcpPolicyReserve: ReserveCommand }).mcpPolicyReserve.bind(this.redis);
      const [admitted, second, third] = await reserve(keys.length, ...args);
      this.markUp();
      if (admitted !== 1) return { outcome: 'limited', blockedIndex: firstIndex[second] ?? 0, retryAfterMs: third ?? 1 };
      let released = false;
      return {
        outcome: 'admitted',
        at: second,
        reservation: {
          release: () => {
            if (released) return;
            released = true;
            const pipeline = this.redis.pipeline();
            for (const key of keys) pipeline.zrem(key, member);
            // A release that does not arrive leaves the unit reserved until its window passes.
            pipeline.exec().catch(() => undefined);
          },
        },
      };
    } catch (error) {
      const reason = `the counter store ${this.description} cannot be reached: ${(error as Error).message}`;
      this.markDown(reason);
      return { outcome: 'unavailable', reason };
    }
  }

  onHealth(listener: (health: StoreHealth) => void): void {
    this.healthListeners.push(listener);
  }

  async close(): Promise<void> {
    this.healthListeners.length = 0;
    this.redis.disconnect();
  }

  private whenReady(): Promise<void> {
    if (this.redis.status === 'ready') return Promise.resolve();
    if (this.redis.status === 'end') return Promise.reject(new Error('the connection is closed'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.redis.off('ready', onReady);
        reject(new Error(this.lastError));
      }, READY_WAIT_MS);
      const onReady = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.redis.once('ready', onReady);
    });
  }

  private markDown(reason: string): void {
    if (this.down !== undefined) return;
    this.down = reason;
    for (const listener of this.healthListeners) listener({ up: false, message: reason });
  }

  private markUp(): void {
    if (this.down === undefined) return;
    this.down = undefined;
    for (const listener of this.healthListeners) listener({ up: true, message: `the counter store ${this.description} is reachable again` });
  }
}
