import { getNodePath, type Node } from 'jsonc-parser';
import { DiagnosticCode, type PolicyDiagnostic } from './diagnostic';

/**
 * Every key written twice in one object: JSON.parse enforces the last copy, while a reader
 * (and every other JSON tool) may take the first, so an earlier copy is an error on its key.
 */
export function duplicateKeys(root: Node, lineOf: (offset: number) => number): PolicyDiagnostic[] {
  const out: PolicyDiagnostic[] = [];
  const stack: Node[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    const children = node.children;
    if (!children) continue;
    if (node.type === 'property') {
      const value = children[1];
      if (value?.children) stack.push(value);
      continue;
    }
    // By index, not for…of: run once per open, this loop is not yet optimized and an iterator
    // would allocate a result object for each of a large policy's 60,000 nodes.
    for (let index = 0; index < children.length; index++) {
      const child = children[index]!;
      if (child.children) stack.push(child);
    }
    if (node.type === 'object') objectDuplicates(node, lineOf, out);
  }
  return out.sort((a, b) => a.range.offset - b.range.offset);
}

const seen = new Set<unknown>();

/** The duplicate keys among one object's own keys (not those of the objects inside it), added to `out`. */
export function objectDuplicates(node: Node, lineOf: (offset: number) => number, out: PolicyDiagnostic[]): void {
  const children = node.children;
  if (!children || children.length < 2) return;
  // Most objects have no duplicate: one Set pass says so without building anything else.
  let duplicated = false;
  if (children.length === 2) duplicated = children[0]!.children?.[0]?.value === children[1]!.children?.[0]?.value;
  else {
    seen.clear();
    for (let index = 0; index < children.length; index++) {
      const key = children[index]!.children?.[0]?.value;
      if (seen.has(key)) {
        duplicated = true;
        break;
      }
      seen.add(key);
    }
    seen.clear();
  }
  if (!duplicated) return;
  const last = new Map<string, Node>();
  for (const property of children) {
    const key = property.children?.[0];
    if (key && typeof key.value === 'string') last.set(key.value, key);
  }
  for (const property of children) {
    const key = property.children?.[0];
    if (!key || typeof key.value !== 'string') continue;
    const kept = last.get(key.value);
    if (!kept || kept === key) continue;
    out.push({
      code: DiagnosticCode.duplicateKey,
      severity: 'error',
      message: duplicateKeyMessage(key.value, lineOf(kept.offset)),
      range: { offset: key.offset, length: key.length },
      path: [...getNodePath(key).slice(0, -1), key.value],
      data: { kept: kept.offset },
    });
  }
}

export function duplicateKeyMessage(key: string, keptLine: number): string {
  return `"${key}" is written more than once in this object: only its last copy, on line ${keptLine}, is enforced; remove or merge this one`;
}
