/**
 * Which counter store a process uses: MCP_POLICY_COUNTERS when set (deployments and tests),
 * else the policy's `counters`, else the embedded store in ~/.mcp-policy/counters.
 */
import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { MemoryCounterStore, type CounterStore } from '../counters';
import { defaultCountersFolder, EmbeddedCounterStore } from './embeddedStore';
import { RedisCounterStore } from './redisStore';

export const COUNTERS_ENV = 'MCP_POLICY_COUNTERS';

export type CounterStoreSpec = { kind: 'memory' } | { kind: 'embedded'; folder: string } | { kind: 'redis'; url: string };

/**
 * `policyStore` is the policy's `counters` store ("embedded", "memory", "redis://…");
 * the environment value may also be a folder, for the embedded store kept there.
 */
export function counterStoreSpec(policyStore: string, env: NodeJS.ProcessEnv = process.env): CounterStoreSpec {
  const override = env[COUNTERS_ENV]?.trim();
  const chosen = override !== undefined && override.length > 0 ? override : policyStore;
  if (chosen === 'memory') return { kind: 'memory' };
  if (/^rediss?:\/\//.test(chosen)) return { kind: 'redis', url: chosen };
  if (chosen === 'embedded' || chosen.length === 0) return { kind: 'embedded', folder: defaultCountersFolder(env.HOME && env.HOME.length > 0 ? env.HOME : homedir()) };
  if (chosen === override) return { kind: 'embedded', folder: isAbsolute(chosen) ? chosen : resolve(chosen) };
  throw new Error(`counters: "${chosen}" is not a counter store (embedded, memory, or a redis:// URL)`);
}

export function openCounterStore(spec: CounterStoreSpec): CounterStore {
  switch (spec.kind) {
    case 'memory':
      return new MemoryCounterStore();
    case 'embedded':
      return new EmbeddedCounterStore({ folder: spec.folder });
    case 'redis':
      return new RedisCounterStore(spec.url);
  }
}

export function sameSpec(a: CounterStoreSpec, b: CounterStoreSpec): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
