/**
 * The Decisions view's filter, as one line of text the user types and the view shows:
 *
 *   decision:denied,rejected   decision:blocked   decision:forwarded   (any of the listed)
 *   server:fs                  exact name, or a glob with `*`
 *   tool:write_*               a glob with `*`, or text the tool name contains (any case)
 *   since:15m  since:2h  since:1d  since:2026-12-01T22:00   (and until:…, same forms)
 *   upstream:failed  upstream:ok                            forwarded calls by their answer
 *   other words                the tool, server, reason or rule contains each (any case)
 *
 * Terms of different keys all have to match; repeated keys are an error. No vscode here, so it
 * is tested on its own.
 */
import { BLOCKED_DECISIONS, type Decision, type DecisionEvent } from '../core/events';
import { compileGlob, isGlobPattern } from '../core/glob';

const DECISIONS: readonly Decision[] = ['allowed', 'approved', 'denied', 'rate_limited', 'invalid_arguments', 'rejected'];
const GROUPS: Record<string, readonly Decision[]> = {
  blocked: [...BLOCKED_DECISIONS],
  forwarded: ['allowed', 'approved'],
};
const KEYS = ['decision', 'server', 'tool', 'since', 'until', 'upstream'] as const;
type Key = (typeof KEYS)[number];
const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export interface DecisionFilter {
  /** The query as the view shows it: terms in a fixed order, single spaces. */
  readonly text: string;
  /** `now` resolves relative times (since:15m), so a filter left on keeps moving with the clock. */
  matches(event: DecisionEvent, now?: number): boolean;
}

export type FilterParse = { ok: true; filter: DecisionFilter | undefined } | { ok: false; error: string };

/** A point in time: relative (ms before now) or absolute (epoch ms). */
type TimeBound = { ago: number } | { at: number };

/** An empty query is no filter (`filter: undefined`); a bad one says which term and why. */
export function parseDecisionFilter(query: string): FilterParse {
  const terms = query.trim().split(/\s+/).filter((term) => term.length > 0);
  if (terms.length === 0) return { ok: true, filter: undefined };
  const seen = new Map<Key, string>();
  const words: string[] = [];
  const tests: Array<(event: DecisionEvent, now: number) => boolean> = [];
  for (const term of terms) {
    const colon = term.indexOf(':');
    const key = colon > 0 ? term.slice(0, colon).toLowerCase() : undefined;
    if (key === undefined || !(KEYS as readonly string[]).includes(key)) {
      if (key !== undefined && /^[a-z]+$/.test(key) && !term.includes('://')) {
        return { ok: false, error: `"${term}": unknown key "${key}" (use ${KEYS.map((k) => `${k}:`).join(', ')} or plain words)` };
      }
      words.push(term);
      continue;
    }
    const value = term.slice(colon + 1);
    if (value.length === 0) return { ok: false, error: `"${term}": ${key}: needs a value` };
    if (seen.has(key as Key)) return { ok: false, error: `"${term}": ${key}: is given twice` };
    seen.set(key as Key, value);
  }
  const parts: string[] = [];
  for (const key of KEYS) {
    const value = seen.get(key);
    if (value === undefined) continue;
    const made = termTest(key, value);
    if (typeof made === 'string') return { ok: false, error: made };
    tests.push(made);
    parts.push(`${key}:${value}`);
  }
  if (words.length > 0) {
    const needles = words.map((word) => word.toLowerCase());
    tests.push((event) => {
      const haystack = `${event.tool}\n${event.server}\n${event.reason}\n${event.rule}`.toLowerCase();
      return needles.every((needle) => haystack.includes(needle));
    });
    parts.push(...words);
  }
  const text = parts.join(' ');
  return { ok: true, filter: { text, matches: (event, now = Date.now()) => tests.every((test) => test(event, now)) } };
}

/** The filter "Show Blocked Only" sets. */
export function blockedOnlyFilter(): DecisionFilter {
  const parsed = parseDecisionFilter('decision:blocked');
  if (!parsed.ok || !parsed.filter) throw new Error('the blocked-only filter does not parse');
  return parsed.filter;
}

/** Whether a forwarded call's upstream answered with an error (or did not answer). */
export function upstreamFailed(event: DecisionEvent): boolean {
  return event.upstream !== undefined && !event.upstream.ok;
}

function termTest(key: Key, value: string): ((event: DecisionEvent, now: number) => boolean) | string {
  switch (key) {
    case 'decision': {
      const wanted = new Set<Decision>();
      for (const name of value.toLowerCase().split(',')) {
        const group = GROUPS[name] ?? (DECISIONS.includes(name as Decision) ? [name as Decision] : undefined);
        if (!group) return `"decision:${value}": "${name}" is not a decision (${[...DECISIONS, ...Object.keys(GROUPS)].join(', ')})`;
        for (const decision of group) wanted.add(decision);
      }
      return (event) => wanted.has(event.decision);
    }
    case 'server': {
      const glob = compileGlob(value);
      return (event) => glob.matches(event.server);
    }
    case 'tool': {
      if (isGlobPattern(value)) {
        const glob = compileGlob(value);
        return (event) => glob.matches(event.tool);
      }
      const needle = value.toLowerCase();
      return (event) => event.tool.toLowerCase().includes(needle);
    }
    case 'since':
    case 'until': {
      const bound = parseTimeBound(value);
      if (!bound) return `"${key}:${value}": not a time (15m, 2h, 1d, 30s, 1w, or a date such as 2026-12-01T22:00)`;
      const at = (now: number): number => ('ago' in bound ? now - bound.ago : bound.at);
      return key === 'since' ? (event, now) => Date.parse(event.time) >= at(now) : (event, now) => Date.parse(event.time) <= at(now);
    }
    case 'upstream': {
      const wanted = value.toLowerCase();
      if (wanted === 'failed') return upstreamFailed;
      if (wanted === 'ok') return (event) => event.upstream?.ok === true;
      return `"upstream:${value}": use upstream:failed or upstream:ok`;
    }
  }
}

function parseTimeBound(value: string): TimeBound | undefined {
  const relative = /^(\d+)([smhdw])$/i.exec(value);
  if (relative) return { ago: Number(relative[1]) * UNITS[relative[2]!.toLowerCase()]! };
  // Dates without a zone are local time, as the view shows times.
  const at = Date.parse(value);
  return /^\d{4}-\d{2}-\d{2}/.test(value) && !Number.isNaN(at) ? { at } : undefined;
}
