import { isUrlUpstream, type Upstream } from '../core/model';
import { setOwn } from '../core/ownRecord';

/**
 * Secrets stay out of the policy: an upstream's strings may hold `${env:NAME}` (or
 * `${env:NAME:-fallback}`), read from the proxy's environment when the upstream starts, and
 * `${input:ID}`, a value the MCP client prompts for (VS Code `inputs`) and hands to the proxy in
 * the environment variable `inputVariable(ID)`; a wrapped VS Code entry passes it so.
 */
const REFERENCE = /\$\{(env|input):([^}:]+)(?::-([^}]*))?\}/g;

/** The environment variable that carries the value of `${input:ID}` to the proxy. */
export function inputVariable(id: string): string {
  return `MCP_POLICY_INPUT_${id.replace(/[^A-Za-z0-9_]/g, '_').toUpperCase()}`;
}

export class UnresolvedReferenceError extends Error {}

/**
 * Input values supplied in-process by the VS Code extension, whose local proxy runs in the
 * extension host: kept here rather than in process.env, which every process the extension
 * host starts would inherit.
 */
const suppliedInputs = new Map<string, string>();

export function supplyInputs(values: Record<string, string>): void {
  for (const [id, value] of Object.entries(values)) suppliedInputs.set(id, value);
}

/** Whether a string holds a reference the proxy resolves. */
export function hasReference(text: string): boolean {
  REFERENCE.lastIndex = 0;
  return REFERENCE.test(text);
}

/** The `${input:ID}` ids a value mentions, for a wrapper that must pass them on. */
export function inputIds(value: unknown): string[] {
  const found = new Set<string>();
  const visit = (item: unknown): void => {
    if (typeof item === 'string') {
      for (const match of item.matchAll(REFERENCE)) if (match[1] === 'input') found.add(match[2]!);
    } else if (Array.isArray(item)) item.forEach(visit);
    else if (item && typeof item === 'object') Object.values(item).forEach(visit);
  };
  visit(value);
  return [...found];
}

function resolveText(text: string, where: string, env: NodeJS.ProcessEnv): string {
  return text.replace(REFERENCE, (whole, kind: string, name: string, fallback: string | undefined) => {
    const variable = kind === 'env' ? name : inputVariable(name);
    const value = (kind === 'input' ? suppliedInputs.get(name) : undefined) ?? env[variable];
    if (value !== undefined && value !== '') return value;
    if (fallback !== undefined) return fallback;
    throw new UnresolvedReferenceError(
      kind === 'env'
        ? `${where}: ${whole} is not set in the environment`
        : `${where}: ${whole} has no value: the MCP client supplies it in ${variable} (mcp-policy wrap writes that into a VS Code entry), or set ${variable}`,
    );
  });
}

/**
 * The upstream with every reference replaced by its value. Throws an UnresolvedReferenceError
 * naming the field when a value is missing: the upstream is not started half-configured.
 */
export function resolveUpstreamReferences(upstream: Upstream, where: string, env: NodeJS.ProcessEnv = process.env): Upstream {
  const record = (values: Record<string, string> | undefined, field: string): Record<string, string> | undefined => {
    if (!values) return undefined;
    const resolved: Record<string, string> = {};
    for (const [key, value] of Object.entries(values)) setOwn(resolved, key, typeof value === 'string' ? resolveText(value, `${where}.${field}.${key}`, env) : value);
    return resolved;
  };
  if (isUrlUpstream(upstream)) {
    const headers = record(upstream.headers, 'headers');
    return { ...upstream, url: resolveText(upstream.url, `${where}.url`, env), ...(headers ? { headers } : {}) };
  }
  const env2 = record(upstream.env, 'env');
  return {
    ...upstream,
    command: resolveText(upstream.command, `${where}.command`, env),
    ...(upstream.args ? { args: upstream.args.map((arg, index) => (typeof arg === 'string' ? resolveText(arg, `${where}.args[${index}]`, env) : arg)) } : {}),
    ...(env2 ? { env: env2 } : {}),
    ...(upstream.cwd !== undefined ? { cwd: resolveText(upstream.cwd, `${where}.cwd`, env) } : {}),
  };
}
