import { getRandomValues } from 'node:crypto';
import { monotonicFactory } from 'ulid';
import { isoTime } from './isoTime';
import { setOwn } from './ownRecord';

export type Decision = 'allowed' | 'approved' | 'denied' | 'rate_limited' | 'invalid_arguments' | 'rejected';

export const BLOCKED_DECISIONS: ReadonlySet<Decision> = new Set(['denied', 'rate_limited', 'invalid_arguments', 'rejected']);

export function isForwarded(decision: Decision): boolean {
  return decision === 'allowed' || decision === 'approved';
}

/** One line of the audit log, one item of the Decisions view, the `_meta` of a blocked answer. */
export interface DecisionEvent {
  id: string;
  time: string;
  server: string;
  tool: string;
  arguments: unknown;
  decision: Decision;
  rule: string;
  reason: string;
  counter?: string;
  retryAfterMs?: number;
  session?: string;
  /** The client credential: a token's name, "stdio", or "token:…" for a proxy's own bearer token. */
  grant?: string;
  client?: string;
  policy: string;
  evalMicros: number;
  upstream?: { ok: boolean; ms: number; error?: string };
}

/**
 * Cryptographic randomness fetched 4 KiB at a time: asking the system for a few bytes per id
 * was a measurable share of the proxy's time per call.
 */
const randomPool = new Uint32Array(1024);
let randomAt = randomPool.length;
function pooledRandom(): number {
  if (randomAt === randomPool.length) {
    getRandomValues(randomPool);
    randomAt = 0;
  }
  return (randomPool[randomAt++] as number) / 0x1_0000_0000;
}

const nextUlid = monotonicFactory(pooledRandom);

export function newEventId(now = Date.now()): string {
  return nextUlid(Math.floor(now));
}

/** What a decision says; the id and time are stamped by newDecisionEvent. */
export type DecisionFields = Omit<DecisionEvent, 'id' | 'time' | 'session' | 'grant' | 'client' | 'upstream'> & {
  session?: string | undefined;
  grant?: string | undefined;
  client?: string | undefined;
};

export function newDecisionEvent(fields: DecisionFields): DecisionEvent {
  const now = Date.now();
  const { session, grant, client, ...rest } = fields;
  const event: DecisionEvent = { id: newEventId(now), time: isoTime(now), ...rest };
  if (session !== undefined) event.session = session;
  if (grant !== undefined) event.grant = grant;
  if (client !== undefined) event.client = client;
  return event;
}

export const REDACTED = '[redacted]';

/** Copies arguments with the values of matching keys replaced, at any depth. */
export function redact(value: unknown, matchers: ReadonlyArray<(key: string) => boolean>): unknown {
  if (matchers.length === 0 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => redact(item, matchers));
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    setOwn(out, key, matchers.some((matches) => matches(key)) ? REDACTED : redact(inner, matchers));
  }
  return out;
}

const ANSWER_PREFIX: Record<Decision, string> = {
  allowed: '[POLICY ALLOWED]',
  approved: '[POLICY APPROVED]',
  denied: '[POLICY DENIED]',
  rate_limited: '[POLICY RATE LIMITED]',
  invalid_arguments: '[POLICY INVALID ARGUMENTS]',
  rejected: '[POLICY APPROVAL REJECTED]',
};

export const DECISION_META_KEY = 'mcp-policy/decision';

export interface BlockedCallResult {
  [key: string]: unknown;
  content: Array<{ type: 'text'; text: string }>;
  isError: true;
  _meta: { [DECISION_META_KEY]: DecisionEvent };
}

/** The answer the client gets instead of the upstream's: the upstream never sees the call. */
export function blockedCallResult(event: DecisionEvent): BlockedCallResult {
  const retry = event.retryAfterMs !== undefined ? ` Retry after ${Math.ceil(event.retryAfterMs / 1000)} s.` : '';
  return {
    content: [{ type: 'text', text: `${ANSWER_PREFIX[event.decision]} ${event.tool}: ${event.reason} (rule: ${event.rule}).${retry}` }],
    isError: true,
    _meta: { [DECISION_META_KEY]: event },
  };
}
