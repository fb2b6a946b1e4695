/**
 * Pinning: the catalog holds a digest of each tool's definition (name, description, input
 * schema, annotations) as it was reviewed. A live definition that differs, or a tool the catalog
 * does not have, has drifted: a changed description is how tool-poisoning attacks arrive, a
 * widened schema how a reviewed tool gains new powers.
 */
import * as crypto from 'node:crypto';
import type { CatalogServer, CatalogTool } from './catalog';

/** The parts of a tool that are pinned. */
export interface PinnedDefinition {
  name: string;
  description?: unknown;
  inputSchema?: unknown;
  annotations?: unknown;
}

const PINNED_FIELDS = ['description', 'inputSchema', 'annotations'] as const;
type PinnedField = (typeof PINNED_FIELDS)[number];

/** Strings JSON.stringify writes as they are between quotes: no quote, backslash, control character or surrogate. */
const PLAIN_STRING = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

/** Keys repeat across a catalog's schemas ("type", "properties", …): each is quoted once. */
const quotedKeys = new Map<string, string>();
const QUOTED_KEYS_LIMIT = 10_000;

function quotedKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = JSON.stringify(key);
    if (quotedKeys.size >= QUOTED_KEYS_LIMIT) quotedKeys.clear();
    quotedKeys.set(key, quoted);
  }
  return quoted;
}

/**
 * JSON with object keys sorted at every depth, so the digest does not depend on key order.
 * Built by plain loops, with plain strings and keys quoted without a call into JSON.stringify:
 * the editor digests every catalog tool when it opens a policy.
 */
function canonicalJson(value: unknown): string {
  if (typeof value === 'string') return PLAIN_STRING.test(value) ? `"${value}"` : JSON.stringify(value);
  if (typeof value !== 'object' || value === null) return JSON.stringify(value ?? null);
  if (Array.isArray(value)) {
    let out = '[';
    for (let index = 0; index < value.length; index++) out += (index === 0 ? '' : ',') + canonicalJson(value[index]);
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  for (let index = 1; index < keys.length; index++) {
    if (keys[index - 1]! > keys[index]!) {
      keys.sort();
      break;
    }
  }
  let out = '{';
  let first = true;
  for (const key of keys) {
    const inner = record[key];
    if (inner === undefined) continue;
    out += `${first ? '' : ','}${quotedKey(key)}:${canonicalJson(inner)}`;
    first = false;
  }
  return `${out}}`;
}

/** One-shot hashing where Node has it (20.12+): cheaper than a Hash object per tool. */
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string) => string }).hash;

function sha256Hex(text: string): string {
  return oneShotHash ? oneShotHash('sha256', text) : crypto.createHash('sha256').update(text).digest('hex');
}

const digests = new WeakMap<object, string>();

/** Digests being made elsewhere (catalogDigests.ts: a worker thread), each recorded by its settle. */
const pendingDigests: Array<() => void> = [];

/** `settle` records digests made elsewhere (recordDigest); it is called, once, on the next miss. */
export function digestsPending(settle: () => void): void {
  // Bounded: catalogs whose digests are never asked for (no pins) must not be kept alive here.
  if (pendingDigests.length >= PENDING_LIMIT) pendingDigests.shift()!();
  pendingDigests.push(settle);
}

const PENDING_LIMIT = 4;

/** A digest made elsewhere by this very function, of a definition equal to `definition`. */
export function recordDigest(definition: PinnedDefinition, digest: string): void {
  digests.set(definition, digest);
}

export function definitionDigest(definition: PinnedDefinition): string {
  let known = digests.get(definition);
  if (known) return known;
  if (pendingDigests.length > 0) {
    for (const settle of pendingDigests.splice(0)) settle();
    known = digests.get(definition);
    if (known) return known;
  }
  const pinned = { name: definition.name, description: definition.description, inputSchema: definition.inputSchema, annotations: definition.annotations };
  const digest = `sha256:${sha256Hex(canonicalJson(pinned))}`;
  digests.set(definition, digest);
  return digest;
}

/** The pin of a catalog entry: the digest it stores, else the digest of what it stores. */
export function pinOf(tool: CatalogTool): string {
  return tool.digest ?? definitionDigest(tool);
}

export interface ToolDrift {
  server: string;
  tool: string;
  /** unpinned: the catalog has no such tool; changed: it differs from its pin; unknown: the live definition could not be read. */
  kind: 'unpinned' | 'changed' | 'unknown' | 'removed';
  /** For changed: which parts differ ("description", "inputSchema", "annotations"), or "definition" when only the stored digest does. */
  changes: string[];
  pinned?: string;
  live?: string;
  /** The definition the server lists now (unpinned, changed): what a diff shows and accepting pins. */
  definition?: PinnedDefinition;
  reason: string;
}

const FIELD_WORDS: Record<PinnedField, string> = { description: 'description', inputSchema: 'input schema', annotations: 'annotations' };

export function driftOf(server: string, live: PinnedDefinition | undefined, pinned: CatalogTool | undefined, tool: string): ToolDrift | undefined {
  if (!live) {
    return { server, tool, kind: 'unknown', changes: [], reason: `the server's current definition of ${tool} is unknown (the server's tools/list does not offer it, or could not be read), so it cannot be checked against its pin` };
  }
  const liveDigest = definitionDigest(live);
  if (!pinned) {
    return { server, tool, kind: 'unpinned', changes: [], live: liveDigest, definition: live, reason: `${tool} is not pinned: the catalog has no definition of it for server "${server}" (a new tool; review it and run mcp-policy catalog --accept ${tool} to pin it)` };
  }
  const pin = pinOf(pinned);
  if (pin === liveDigest) return undefined;
  const changes: string[] = PINNED_FIELDS.filter((field) => canonicalJson(live[field]) !== canonicalJson(pinned[field]));
  const named = changes.length > 0 ? changes.map((field) => FIELD_WORDS[field as PinnedField]).join(', ') : 'definition';
  return {
    server,
    tool,
    kind: 'changed',
    changes: changes.length > 0 ? changes : ['definition'],
    pinned: pin,
    live: liveDigest,
    definition: live,
    reason: `${tool} changed since it was pinned: its ${named} ${changes.length > 1 ? 'differ' : 'differs'} from the catalog (review the change and run mcp-policy catalog --accept ${tool} to accept it)`,
  };
}

/** Every difference between a server's tools as listed now and as its catalog entry pins them. */
export function serverDrift(server: string, live: readonly CatalogTool[], pinned: CatalogServer | undefined): ToolDrift[] {
  const pins = new Map((pinned?.tools ?? []).map((tool) => [tool.name, tool]));
  const drifts: ToolDrift[] = [];
  for (const tool of live) {
    const drift = driftOf(server, tool, pins.get(tool.name), tool.name);
    if (drift) drifts.push(drift);
    pins.delete(tool.name);
  }
  for (const name of pins.keys()) {
    drifts.push({ server, tool: name, kind: 'removed', changes: [], reason: `${name} is pinned in the catalog but the server no longer lists it` });
  }
  return drifts;
}
