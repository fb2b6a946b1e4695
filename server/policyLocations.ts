import { findNodeAtOffset, getNodePath, type Node } from 'jsonc-parser';
import { isObject, type JsonDocument, type JsonPath } from '../core';
import { isLimitsArray, rulePath } from './policyPaths';

/** The JSON path of the node at an offset, and whether the offset is on a property key. */
export function pathAt(json: JsonDocument, offset: number): { path: JsonPath; node: Node; onKey: boolean } | undefined {
  const root = json.root;
  if (!root) return undefined;
  const node = findNodeAtOffset(root, offset, true);
  if (!node) return undefined;
  const property = node.parent?.type === 'property' ? node.parent : undefined;
  const onKey = property !== undefined && property.children?.[0] === node;
  // A key's path is its value's path.
  const valueNode = onKey ? property.children?.[1] : node;
  if (!valueNode) return { path: [...getNodePath(node).slice(0, -1), String(node.value)], node, onKey };
  return { path: getNodePath(valueNode), node, onKey };
}

/** Every rule of the policy: `tools.T` and `servers.S.tools.T`. */
export function ruleEntries(value: unknown): Array<{ path: JsonPath; server: string | undefined; key: string }> {
  const entries: Array<{ path: JsonPath; server: string | undefined; key: string }> = [];
  if (!isObject(value)) return entries;
  if (isObject(value.tools)) for (const key of Object.keys(value.tools)) entries.push({ path: ['tools', key], server: undefined, key });
  if (isObject(value.servers)) {
    for (const [server, section] of Object.entries(value.servers)) {
      if (!isObject(section) || !isObject(section.tools)) continue;
      for (const key of Object.keys(section.tools)) entries.push({ path: ['servers', server, 'tools', key], server, key });
    }
  }
  return entries;
}

/** Every `counter` of every limit, with its name. */
export function counterEntries(value: unknown): Array<{ path: JsonPath; name: string }> {
  const found: Array<{ path: JsonPath; name: string }> = [];
  const limits = (owner: unknown, path: JsonPath): void => {
    if (!isObject(owner) || !Array.isArray(owner.limits) || !isLimitsArray([...path, 'limits'])) return;
    owner.limits.forEach((limit: unknown, index: number) => {
      if (isObject(limit) && typeof limit.counter === 'string') found.push({ path: [...path, 'limits', index, 'counter'], name: limit.counter });
    });
  };
  if (!isObject(value)) return found;
  limits(value.all_tools, ['all_tools']);
  for (const entry of ruleEntries(value)) {
    let rule: unknown = value;
    for (const segment of entry.path) rule = isObject(rule) ? rule[segment as string] : undefined;
    if (rulePath(entry.path)) limits(rule, entry.path);
  }
  if (isObject(value.servers)) for (const [server, section] of Object.entries(value.servers)) if (isObject(section)) limits(section.all_tools, ['servers', server, 'all_tools']);
  return found;
}
