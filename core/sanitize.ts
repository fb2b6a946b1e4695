import { DEFAULT_REDACT, type Action, type AllTools, type Limit, type Policy, type Rule, type ServerSection, type Upstream } from './model';
import { setOwn } from './ownRecord';

/**
 * The well-formed parts of a policy that may still have schema errors, so that semantic
 * checks and the language server keep working while a file is half typed.
 */
export function sanitizePolicy(value: unknown): Policy | undefined {
  if (!isObject(value)) return undefined;
  const policy: Policy = { version: '1' };
  if (isAction(value.default)) policy.default = value.default;
  const hide = strings(value.hide);
  if (hide) policy.hide = hide;
  const allTools = sanitizeAllTools(value.all_tools);
  if (allTools) policy.all_tools = allTools;
  const tools = sanitizeTools(value.tools);
  if (tools) policy.tools = tools;
  if (isObject(value.servers)) {
    policy.servers = {};
    for (const [name, section] of Object.entries(value.servers)) {
      if (!isObject(section)) continue;
      const server: ServerSection = {};
      if (isObject(section.upstream)) server.upstream = section.upstream as unknown as Upstream;
      if (isAction(section.default)) server.default = section.default;
      const serverHide = strings(section.hide);
      if (serverHide) server.hide = serverHide;
      if (typeof section.callable_only === 'boolean') server.callable_only = section.callable_only;
      if (typeof section.pinning === 'boolean') server.pinning = section.pinning;
      const serverAllTools = sanitizeAllTools(section.all_tools);
      if (serverAllTools) server.all_tools = serverAllTools;
      const serverTools = sanitizeTools(section.tools);
      if (serverTools) server.tools = serverTools;
      setOwn(policy.servers, name, server);
    }
  }
  const catalog = strings(value.catalog);
  if (catalog) policy.catalog = catalog;
  if (typeof value.callable_only === 'boolean') policy.callable_only = value.callable_only;
  if (typeof value.pinning === 'boolean') policy.pinning = value.pinning;
  if (isObject(value.audit)) {
    policy.audit = {};
    const redactKeys = strings(value.audit.redact);
    if (redactKeys) policy.audit.redact = redactKeys;
    // Only names of defaults can be turned off; anything else is a schema error, and ignored here.
    const unredact = strings(value.audit.unredact)?.filter((glob) => DEFAULT_REDACT.includes(glob));
    if (unredact) policy.audit.unredact = unredact;
  }
  if (isObject(value.approval) && Number.isInteger(value.approval.timeout) && (value.approval.timeout as number) >= 1) {
    policy.approval = { timeout: value.approval.timeout as number };
  }
  const counters = sanitizeCounters(value.counters);
  if (counters !== undefined) policy.counters = counters;
  return policy;
}

function isCounterStoreName(value: unknown): value is string {
  return value === 'embedded' || value === 'memory' || (typeof value === 'string' && /^rediss?:\/\//.test(value));
}

function sanitizeCounters(value: unknown): Policy['counters'] {
  if (isCounterStoreName(value)) return value;
  if (!isObject(value)) return undefined;
  const counters: { store?: string; when_unreachable?: 'refuse' | 'allow' } = {};
  if (isCounterStoreName(value.store)) counters.store = value.store;
  if (value.when_unreachable === 'refuse' || value.when_unreachable === 'allow') counters.when_unreachable = value.when_unreachable;
  return counters;
}

function sanitizeTools(value: unknown): Record<string, Rule> | undefined {
  if (!isObject(value)) return undefined;
  const tools: Record<string, Rule> = {};
  // By index over the keys: a 5,000-rule policy, sanitized once on open by code not yet optimized (ownRecord.ts).
  const keys = Object.keys(value);
  for (let index = 0; index < keys.length; index++) {
    const key = keys[index]!;
    const raw = value[key];
    if (!isObject(raw) || key.length === 0) continue;
    const rule: Rule = {};
    if (isAction(raw.action)) rule.action = raw.action;
    if (typeof raw.reason === 'string') rule.reason = raw.reason;
    const limits = sanitizeLimits(raw.limits);
    if (limits) rule.limits = limits;
    if (typeof raw.validate_input === 'boolean') rule.validate_input = raw.validate_input;
    if (isObject(raw.arguments)) rule.arguments = raw.arguments;
    setOwn(tools, key, rule);
  }
  return tools;
}

function sanitizeAllTools(value: unknown): AllTools | undefined {
  if (!isObject(value)) return undefined;
  const limits = sanitizeLimits(value.limits);
  return limits ? { limits } : {};
}

function sanitizeLimits(value: unknown): Limit[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const limits: Limit[] = [];
  for (const raw of value) {
    if (!isObject(raw)) continue;
    const window = raw.window;
    const validWindow =
      window === 'second' || window === 'minute' || window === 'hour' || window === 'day' || (Number.isInteger(window) && (window as number) >= 1);
    if (!validWindow || !Number.isInteger(raw.max) || (raw.max as number) < 1) continue;
    const limit: Limit = { window: window as Limit['window'], max: raw.max as number };
    if (typeof raw.counter === 'string' && raw.counter.length > 0) limit.counter = raw.counter;
    if (raw.scope === 'session' || raw.scope === 'grant' || raw.scope === 'global') limit.scope = raw.scope;
    limits.push(limit);
  }
  return limits;
}

function strings(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.filter((item): item is string => typeof item === 'string' && item.length > 0);
}

function isAction(value: unknown): value is Action {
  return value === 'allow' || value === 'deny' || value === 'approve';
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
