import { availableParallelism, cpus } from 'node:os';

/** V8's default number of helper threads (compilers, parallel and concurrent GC) in Node. */
const NODE_DEFAULT_V8_POOL = 4;

/** The cores this process may use (availableParallelism where Node has it). */
export function coreCount(): number {
  return typeof availableParallelism === 'function' ? availableParallelism() : cpus().length;
}

/**
 * Node flags for the language server's own process, passed by whatever starts it: the VS Code
 * extension (client/languageClient.ts, execArgv) and `mcp-policy lsp --stdio`
 * (proxy/commands/lsp.ts, which starts the server in a process of its own for them).
 *
 * `--min-semi-space-size=16`: the young generation starts at 16 MB instead of growing from 1 MB.
 * Opening a large policy makes tens of MB of objects that live on (the catalog, the parse
 * tree), and each scavenge of a small young generation copies them once more: garbage collection
 * is a third of a cold open. The heap is sized when V8 starts, so this cannot be set at run time
 * (v8.setFlagsFromString changes nothing then).
 *
 * `--v8-pool-size`: no more V8 helper threads than there are cores besides the server's own
 * thread. Node starts 4 whatever the machine; on 2 cores, while a large policy is opened, they
 * compile and collect on both cores at once and the server's thread waits for a core: the open
 * took a median 323 ms with 4 helpers and 269 ms with 1 (bench/RESULTS.md, 2026-12-03).
 */
export const LANGUAGE_SERVER_NODE_FLAGS: readonly string[] = [
  '--min-semi-space-size=16',
  `--v8-pool-size=${Math.max(1, Math.min(NODE_DEFAULT_V8_POOL, coreCount() - 1))}`,
];
