import type { JsonPath } from '../core';

/**
 * Where a JSON path sits in a policy: the places that hold rules, hide lists and limits are
 * the same at the top level and under `servers.S`, so every feature asks here.
 */

/** `tools` or `servers.S.tools`: the object whose keys are tool names and globs. */
export function rulesSection(path: JsonPath): { server: string | undefined } | undefined {
  if (path.length === 1 && path[0] === 'tools') return { server: undefined };
  if (path.length === 3 && path[0] === 'servers' && typeof path[1] === 'string' && path[2] === 'tools') return { server: path[1] };
  return undefined;
}

/** `tools.T` or `servers.S.tools.T`: one rule. */
export function rulePath(path: JsonPath): { server: string | undefined; key: string } | undefined {
  const key = path[path.length - 1];
  if (typeof key !== 'string') return undefined;
  const section = rulesSection(path.slice(0, -1));
  return section ? { server: section.server, key } : undefined;
}

/** The rule a path is inside of, and what comes after the rule's own path. */
export function enclosingRule(path: JsonPath): { server: string | undefined; key: string; rest: JsonPath } | undefined {
  for (const length of [2, 4]) {
    if (path.length < length) continue;
    const rule = rulePath(path.slice(0, length));
    if (rule) return { ...rule, rest: path.slice(length) };
  }
  return undefined;
}

/** `hide` or `servers.S.hide`. */
export function hideSection(path: JsonPath): { server: string | undefined } | undefined {
  if (path.length === 1 && path[0] === 'hide') return { server: undefined };
  if (path.length === 3 && path[0] === 'servers' && typeof path[1] === 'string' && path[2] === 'hide') return { server: path[1] };
  return undefined;
}

/** A limits array: a rule's, `all_tools`' or a server's `all_tools`. */
export function isLimitsArray(path: JsonPath): boolean {
  if (path[path.length - 1] !== 'limits') return false;
  const owner = path.slice(0, -1);
  if (rulePath(owner)) return true;
  const last = owner[owner.length - 1];
  return last === 'all_tools' && (owner.length === 1 || (owner.length === 3 && owner[0] === 'servers'));
}

export function samePath(a: JsonPath, b: JsonPath): boolean {
  return a.length === b.length && a.every((segment, index) => segment === b[index]);
}
