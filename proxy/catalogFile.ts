/**
 * Writing a catalog file: merged with what the file already holds (servers not captured in
 * this run keep their entry), with a `$schema` so editors validate it, and atomically (the
 * language server and the proxy watch this file and must never read half of it).
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import type { CatalogFile, CatalogServer } from '../core';
import { catalogFileText } from '../core/catalogText';
import { setOwn } from '../core/ownRecord';

export interface CatalogDocument extends CatalogFile {
  $schema?: string;
}

export interface WriteCatalogResult {
  /** Servers whose entry was kept from the previous file. */
  kept: string[];
  /** A problem with the previous file (it was replaced). */
  warning?: string;
}

/**
 * Writes `captured` into `path`. Every server of the previous file that this run did not
 * capture keeps its entry: one that failed to answer, one outside this run (`--server`),
 * or one the user put there by hand.
 */
export function writeCatalog(path: string, captured: Record<string, CatalogServer>): WriteCatalogResult {
  const { previous, warning } = readPrevious(path);
  const servers: Record<string, CatalogServer> = {};
  const kept: string[] = [];
  for (const [name, server] of Object.entries(previous?.servers ?? {})) {
    if (captured[name]) continue;
    setOwn(servers, name, server);
    kept.push(name);
  }
  Object.assign(servers, captured);
  const $schema = previous?.$schema ?? schemaReference(dirname(resolve(path)));
  const document: CatalogDocument = { ...($schema ? { $schema } : {}), version: '1', generated: new Date().toISOString(), servers: sortedByName(servers) };
  const temporary = join(dirname(resolve(path)), `.${basename(path)}.${process.pid}.tmp`);
  writeFileSync(temporary, catalogFileText(document));
  renameSync(temporary, path);
  return { kept, ...(warning ? { warning } : {}) };
}

function readPrevious(path: string): { previous?: CatalogDocument; warning?: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return {};
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && typeof (parsed as CatalogDocument).servers === 'object') return { previous: parsed as CatalogDocument };
  } catch {
    // fall through: the file is replaced, and the user told so
  }
  return { warning: `${path} was not a tool catalog; replaced it` };
}

/** Servers in a stable order, so regenerating a catalog gives a small diff. */
function sortedByName(servers: Record<string, CatalogServer>): Record<string, CatalogServer> {
  return Object.fromEntries(Object.entries(servers).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * A relative `$schema` to this package's catalog schema when the catalog lives in the project
 * that has the package (this repository, or a project with mcp-policy in node_modules); a path
 * into a global install would break on the next machine, so none then.
 */
function schemaReference(folder: string): string | undefined {
  for (const root of [join(__dirname, '..'), join(__dirname, '..', '..')]) {
    const schema = join(root, 'schemas', 'catalog.schema.json');
    if (!existsSync(schema)) continue;
    const project = basename(dirname(root)) === 'node_modules' ? dirname(dirname(root)) : root;
    const inside = folder === project || folder.startsWith(project.endsWith(sep) ? project : project + sep);
    if (!inside) return undefined;
    const path = relative(folder, schema).split(sep).join('/');
    return path.startsWith('.') ? path : `./${path}`;
  }
  return undefined;
}
