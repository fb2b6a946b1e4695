/**
 * `record[key] = value` for keys that come from users' files and peers' messages. JSON.parse
 * makes "__proto__" an own key like any other; a plain assignment of it sets the prototype
 * instead, so a rule, a server section or an audited argument of that name would vanish.
 */
export function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
  else record[key] = value;
}

/**
 * `for (const [key, value] of Object.entries(record))` without its allocations. On a cold open
 * most checks run once, unoptimized, and there each entry of Object.entries and each step of
 * for…of is an object: a 5,000-rule policy is walked a dozen times, ~1.4 MB a walk, and that
 * garbage is what makes the young generation collect (and copy the parse tree) again.
 */
export function forEachOwn<T>(record: Record<string, T> | undefined, visit: (key: string, value: T) => unknown): void {
  if (!record) return;
  const keys = Object.keys(record);
  for (let index = 0; index < keys.length; index++) visit(keys[index]!, record[keys[index]!]!);
}
