/**
 * The value of a document after one key was renamed in place (typing a rule's name), made from
 * the value before it instead of from the whole tree: the renamed key's object is rebuilt from
 * its own entries in written order, its ancestors are copied, and everything else is shared.
 * A fresh parse builds the same: JSON.parse or jsonc-parser's getNodeValue, whichever made the
 * value before (the prototype of the objects says which). Undefined when that cannot be told
 * apart cheaply: a duplicate key in the object or on the way to it, an array or a missing value
 * on the way.
 */
import { getNodePath, type Node } from 'jsonc-parser';
import { underDuplicateKey } from './jsonTree';
import { setOwn } from './ownRecord';

type Container = Record<string, unknown>;

function isPlainObject(value: unknown): value is Container {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An empty object made as `like` was: JSON.parse's have Object's prototype, getNodeValue's none. */
function emptyLike(like: Container): Container {
  return Object.getPrototypeOf(like) === null ? (Object.create(null) as Container) : {};
}

/** `object` with its entries in the same order, `key` set to `child`. */
function copyWith(object: Container, key: string, child: unknown): Container {
  const copy = emptyLike(object);
  for (const own of Object.keys(object)) setOwn(copy, own, own === key ? child : object[own]);
  return copy;
}

/**
 * `key` is the renamed key's node (its value already the new name), `oldName` what it was;
 * `previous` the value of the text before the rename, which is left as it was.
 */
export function valueAfterRename(previous: unknown, key: Node, oldName: string): { value: unknown } | undefined {
  const property = key.parent;
  const object = property?.parent;
  if (!property || !object || object.type !== 'object' || typeof key.value !== 'string') return undefined;
  if (underDuplicateKey(object)) return undefined;
  const path = getNodePath(object);
  const chain: Container[] = [];
  let container: unknown = previous;
  for (const segment of path) {
    if (!isPlainObject(container) || typeof segment !== 'string') return undefined;
    chain.push(container);
    container = container[segment];
  }
  if (!isPlainObject(container)) return undefined;
  const before = container;
  // Each name once, before and after: then every entry's value is the one the value before holds.
  const names = new Set<string>();
  const properties = object.children ?? [];
  for (let index = 0; index < properties.length; index++) {
    const name = properties[index]!.children?.[0]?.value;
    if (typeof name !== 'string' || names.has(name)) return undefined;
    names.add(name);
  }
  if (names.has(oldName) && oldName !== key.value) return undefined;
  const renamed = emptyLike(before);
  for (let index = 0; index < properties.length; index++) {
    const entry = properties[index]!;
    const name = entry.children![0]!.value as string;
    // An entry without a value (a key typed, no colon yet) is in neither value.
    if (!entry.children![1]) continue;
    const source = entry === property ? oldName : name;
    if (!Object.prototype.hasOwnProperty.call(before, source)) return undefined;
    setOwn(renamed, name, before[source]);
  }
  let value: unknown = renamed;
  for (let depth = chain.length - 1; depth >= 0; depth--) value = copyWith(chain[depth]!, path[depth] as string, value);
  return { value };
}
