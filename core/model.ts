/** The policy file as written (version "1"), after schema validation. */

export type Action = 'allow' | 'deny' | 'approve';
export type NamedWindow = 'second' | 'minute' | 'hour' | 'day';
export type Window = NamedWindow | number;
export type Scope = 'session' | 'grant' | 'global';

export interface Limit {
  counter?: string;
  window: Window;
  max: number;
  scope?: Scope;
}

export interface Rule {
  action?: Action;
  reason?: string;
  limits?: Limit[];
  validate_input?: boolean;
  arguments?: Record<string, unknown>;
}

export interface AllTools {
  limits?: Limit[];
}

export interface CommandUpstream {
  command: string;
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
}

export interface UrlUpstream {
  url: string;
  headers?: Record<string, string>;
}

export type Upstream = CommandUpstream | UrlUpstream;

export interface ServerSection {
  upstream?: Upstream;
  default?: Action;
  hide?: string[];
  /** Overrides the top-level callable_only for this server. */
  callable_only?: boolean;
  /** Overrides the top-level pinning for this server. */
  pinning?: boolean;
  all_tools?: AllTools;
  tools?: Record<string, Rule>;
}

export interface Policy {
  $schema?: string;
  version: '1';
  default?: Action;
  hide?: string[];
  all_tools?: AllTools;
  tools?: Record<string, Rule>;
  servers?: Record<string, ServerSection>;
  catalog?: string[];
  /** tools/list shows only tools some call could get through (not hidden, not denied). */
  callable_only?: boolean;
  /** A tool whose live definition differs from its catalog pin, or that has none, is hidden and denied. */
  pinning?: boolean;
  audit?: { redact?: string[]; unredact?: string[] };
  approval?: { timeout?: number };
  counters?: CounterStoreName | { store?: CounterStoreName; when_unreachable?: 'refuse' | 'allow' };
}

/** "embedded", "memory" or a redis:// URL. */
export type CounterStoreName = string;

export const DEFAULT_ACTION: Action = 'deny';
export const DEFAULT_SCOPE: Scope = 'grant';
export const DEFAULT_APPROVAL_TIMEOUT_SECONDS = 60;
/** Always redacted unless `audit.unredact` names one; `audit.redact` adds to them. */
export const DEFAULT_REDACT: readonly string[] = [
  '*password*',
  '*token*',
  '*secret*',
  '*api_key*',
  '*apikey*',
  '*authorization*',
  '*cookie*',
  '*credential*',
  '*private_key*',
];

/** The redaction globs in force: the defaults the policy did not turn off, then its own. */
export function redactGlobs(audit: Policy['audit']): string[] {
  const off = new Set(audit?.unredact ?? []);
  const globs = DEFAULT_REDACT.filter((glob) => !off.has(glob));
  for (const glob of audit?.redact ?? []) if (!globs.includes(glob)) globs.push(glob);
  return globs;
}

const NAMED_WINDOW_SECONDS: Record<NamedWindow, number> = { second: 1, minute: 60, hour: 3600, day: 86400 };

export function windowMs(window: Window): number {
  return (typeof window === 'number' ? window : NAMED_WINDOW_SECONDS[window]) * 1000;
}

export function describeWindow(window: Window): string {
  return typeof window === 'number' ? `${window} s` : window;
}

export function isUrlUpstream(upstream: Upstream): upstream is UrlUpstream {
  return typeof (upstream as UrlUpstream).url === 'string';
}
