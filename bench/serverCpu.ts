import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TextDocument, type TextDocumentContentChangeEvent } from 'vscode-languageserver-textdocument';
import { CatalogStore } from '../server/catalogs';
import { complete } from '../server/completion';
import { PolicyDocuments } from '../server/documents';

/**
 * The language server's own CPU time (process.cpuUsage) for what an editor waits for, in a
 * fresh process so that "cold" means cold. CPU time does not grow with the machine's load
 * the way wall time does. Run by bench/server.ts as `node serverCpu.js FOLDER TYPED`.
 */
export interface ServerCpuResult {
  coldOpenMs: number;
  /** The same open, the server's own thread only (Linux); coldOpenMs adds V8's helper threads (compilers, GC). */
  coldOpenThreadMs: number | undefined;
  completionMs: number[];
  analysisMs: number[];
  ruleEditMs: number[];
  reasonEditMs: number[];
}

function cpuMs<T>(run: () => T): [T, number] {
  const start = process.cpuUsage();
  const result = run();
  const used = process.cpuUsage(start);
  return [result, (used.user + used.system) / 1000];
}

/** CPU time of the calling thread so far, from the kernel's scheduler statistics (ns), where there are any. */
function threadCpuMs(): number | undefined {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return undefined;
  }
}

function measure(folder: string, typed: string, rounds: number): ServerCpuResult {
  const path = join(folder, 'mcp-policy.json');
  const uri = pathToFileURL(path).href;
  const documents = new PolicyDocuments(new CatalogStore());
  let document = TextDocument.create(uri, 'json', 1, readFileSync(path, 'utf8'));
  // Cold: the catalog read and indexed, the policy parsed and analyzed, in a process that has done nothing else.
  const threadBefore = threadCpuMs();
  const [, coldOpenMs] = cpuMs(() => documents.analyze(document));
  const threadAfter = threadCpuMs();
  const coldOpenThreadMs = threadBefore !== undefined && threadAfter !== undefined ? threadAfter - threadBefore : undefined;
  const update = (changes: TextDocumentContentChangeEvent[]): void => {
    const previousVersion = document.version;
    const previousText = document.getText();
    const updated = TextDocument.update(document, changes, document.version + 1);
    documents.noteEdit(uri, previousVersion, previousText, changes, updated);
    document = updated;
  };
  // One character typed into a reason: the policy's meaning stays, the edit stays inside a string.
  const reasonEditMs: number[] = [];
  const anchor = document.getText().indexOf('"reason": "rule ') + '"reason": "rule '.length;
  for (let edit = 0; edit < 50; edit++) {
    const position = document.positionAt(anchor);
    update([{ range: { start: position, end: position }, text: 'x' }]);
    reasonEditMs.push(cpuMs(() => documents.analyze(document))[1]);
  }
  const completionMs: number[] = [];
  const analysisMs: number[] = [];
  const text = document.getText();
  const at = text.indexOf('"tools": {\n') + '"tools": {\n'.length;
  update([{ text: `${text.slice(0, at)}    ${text.slice(at)}` }]);
  documents.analyze(document);
  for (let round = 0; round < rounds; round++) {
    for (let index = 0; index < typed.length; index++) {
      const offset = at + 4 + index;
      const position = document.positionAt(offset);
      update([{ range: { start: position, end: position }, text: typed.charAt(index) }]);
      // What the completion request costs (the parse of the new text included), then the diagnostic pull.
      completionMs.push(cpuMs(() => complete(documents.context(document)!, offset + 1, { snippets: true, insertReplace: false }))[1]);
      analysisMs.push(cpuMs(() => documents.analyze(document))[1]);
    }
    const current = document.getText();
    update([{ text: current.slice(0, at + 4) + current.slice(at + 4 + typed.length) }]);
    documents.analyze(document);
  }
  // A finished edit to one rule: `{}` becomes `{ "action": "deny" }` on a different rule each time.
  const ruleEditMs: number[] = [];
  for (let edit = 0; edit < 20; edit++) {
    const current = document.getText();
    let found = -1;
    for (let count = 0, from = 0; count <= edit * 7; count++) {
      found = current.indexOf('": {},\n', from);
      from = found + 1;
    }
    if (found < 0) break;
    const start = document.positionAt(found + 3);
    const end = document.positionAt(found + 5);
    update([{ range: { start, end }, text: '{ "action": "deny" }' }]);
    ruleEditMs.push(cpuMs(() => documents.analyze(document))[1]);
  }
  return { coldOpenMs, coldOpenThreadMs, completionMs, analysisMs, ruleEditMs, reasonEditMs };
}

if (require.main === module) {
  const [folder, typed] = process.argv.slice(2);
  process.stdout.write(JSON.stringify(measure(folder!, typed!, 5)));
}
