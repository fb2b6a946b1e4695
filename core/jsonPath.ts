/**
 * JSON paths as the decision event's `rule` writes them: `tools.fluentcrm_list_*`,
 * `servers.crm.tools.send`, `all_tools.limits[0]`; keys with other characters are quoted
 * as `tools["a.b c"]` so every path reads back to the same segments.
 */
export type JsonPath = ReadonlyArray<string | number>;

const PLAIN_KEY = /^[A-Za-z0-9_*$-]+$/;

export function formatJsonPath(path: JsonPath): string {
  let out = '';
  // By index: made for every rule on open, by code not yet optimized (ownRecord.ts forEachOwn).
  for (let index = 0; index < path.length; index++) {
    const segment = path[index]!;
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) out += out.length === 0 ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** Reads a path written by formatJsonPath; undefined when it is not one. */
export function parseJsonPath(text: string): Array<string | number> | undefined {
  const segments: Array<string | number> = [];
  let at = 0;
  while (at < text.length) {
    const char = text[at];
    if (char === '.') {
      if (segments.length === 0) return undefined;
      at++;
      continue;
    }
    if (char === '[') {
      const close = findClosingBracket(text, at);
      if (close < 0) return undefined;
      const inner = text.slice(at + 1, close);
      if (/^\d+$/.test(inner)) segments.push(Number(inner));
      else {
        try {
          const key: unknown = JSON.parse(inner);
          if (typeof key !== 'string') return undefined;
          segments.push(key);
        } catch {
          return undefined;
        }
      }
      at = close + 1;
      continue;
    }
    const match = /^[A-Za-z0-9_*$-]+/.exec(text.slice(at));
    if (!match) return undefined;
    segments.push(match[0]);
    at += match[0].length;
  }
  return segments;
}

function findClosingBracket(text: string, open: number): number {
  if (text[open + 1] !== '"') return text.indexOf(']', open);
  let at = open + 2;
  while (at < text.length) {
    if (text[at] === '\\') at += 2;
    else if (text[at] === '"') return text[at + 1] === ']' ? at + 1 : -1;
    else at++;
  }
  return -1;
}
