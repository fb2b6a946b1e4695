/**
 * `record[key] = value` for keys that come from users' files and peers' messages. JSON.parse
 * makes "__proto__" an own key like any other; a plain assignment of it sets the prototype
 * instead, so a rule, a server section or an audited argument of that name would vanish.
 */
export function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
  else record[key] = value;
}
