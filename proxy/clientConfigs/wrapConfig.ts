import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { applyEdits, modify, type FormattingOptions, type JSONPath } from 'jsonc-parser';
import { parseConfigText, readClientConfig, type ConfigServer, type ReadOptions } from './readConfig';
import { isWrappedEntry, TRANSPORT_KEYS } from './serverEntry';
import { setOwn } from '../../core/ownRecord';

/** The backup beside a wrapped file: what `unwrap` restores from. */
export function backupPath(file: string): string {
  return `${file}.mcp-policy-backup.json`;
}

interface Backup {
  version: 1;
  /** The file before the first wrap, restored byte for byte when the file is as wrap left it. */
  original: string | null;
  /** The file as the last wrap wrote it. */
  wrapped: string;
  /** Each wrapped entry's original value, by its JSON path, for when the file changed since. */
  entries: Array<{ path: JSONPath; value: unknown; removed?: boolean }>;
}

export interface WrapOptions extends ReadOptions {
  launcher: string;
  /** Absolute path of the enforced policy. */
  policy: string;
  /** The policy's server for a client entry, or undefined when the policy does not hold it. */
  serverFor: (server: ConfigServer) => string | undefined;
  /** Only these entries (by name); all when undefined. */
  only?: readonly string[];
}

export interface WrapResult {
  text: string;
  wrapped: Array<{ name: string; server: string; path: JSONPath; original: unknown }>;
  already: string[];
  skipped: Array<{ name: string; why: string }>;
}

/** The file's own indentation and line ends, so edits look as if written by hand. */
export function formattingOf(text: string): FormattingOptions {
  const indent = /\n([ \t]+)\S/.exec(text)?.[1] ?? '  ';
  return { insertSpaces: !indent.includes('\t'), tabSize: indent.includes('\t') ? 1 : indent.length, eol: text.includes('\r\n') ? '\r\n' : '\n' };
}

/** The entry that starts `server` of `policy` through the launcher, keeping the entry's other settings. */
export function wrappedEntry(original: ConfigServer, launcher: string, policy: string, server: string): Record<string, unknown> {
  const entry: Record<string, unknown> = {};
  const raw = original.entry as Record<string, unknown>;
  // VS Code and Claude Code write a type; the others infer stdio from "command".
  if (original.client === 'vscode' || original.client === 'claude-code' || typeof raw.type === 'string') entry.type = 'stdio';
  entry.command = launcher;
  entry.args = ['proxy', policy, '--server', server];
  if (Object.keys(original.clientEnv).length > 0) entry.env = { ...original.clientEnv };
  for (const [key, value] of Object.entries(raw)) if (!TRANSPORT_KEYS.has(key)) setOwn(entry, key, value);
  return entry;
}

/** Rewrites the file's server entries to start through mcp-policy; entries already wrapped stay as they are. */
export function wrapText(text: string, file: string, options: WrapOptions): WrapResult {
  const result: WrapResult = { text, wrapped: [], already: [], skipped: [] };
  const formatting = formattingOf(text);
  for (const server of readClientConfig(text, file, options)) {
    if (options.only && !options.only.includes(server.name)) continue;
    if (server.wrapped) {
      result.already.push(server.name);
      continue;
    }
    if (server.problem) {
      result.skipped.push({ name: server.name, why: server.problem });
      continue;
    }
    const policyServer = options.serverFor(server);
    if (!policyServer) {
      result.skipped.push({ name: server.name, why: `the policy has no server with its upstream (run mcp-policy init --server ${server.name})` });
      continue;
    }
    const entry = wrappedEntry(server, options.launcher, options.policy, policyServer);
    result.text = applyEdits(result.text, modify(result.text, server.path, entry, { formattingOptions: formatting }));
    result.wrapped.push({ name: server.name, server: policyServer, path: server.path, original: server.entry });
  }
  return result;
}

function readBackup(file: string): Backup | undefined {
  const path = backupPath(file);
  if (!existsSync(path)) return undefined;
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as Backup;
  if (parsed.version !== 1 || typeof parsed.wrapped !== 'string' || !Array.isArray(parsed.entries)) throw new Error(`${path}: not an mcp-policy backup`);
  return parsed;
}

function samePath(a: JSONPath, b: JSONPath): boolean {
  return a.length === b.length && a.every((key, index) => key === b[index]);
}

/** Wraps a file in place, with a backup beside it; wrapping a wrapped file changes nothing. */
export function wrapFile(file: string, options: WrapOptions): WrapResult {
  const text = readFileSync(file, 'utf8');
  const result = wrapText(text, file, options);
  if (result.wrapped.length === 0) return result;
  saveWithBackup(file, text, result.text, result.wrapped.map((entry) => ({ path: entry.path, value: entry.original })));
  return result;
}

/** Writes `changed` over `file` and records what unwrap needs to undo it. */
function saveWithBackup(file: string, text: string, changed: string, changedEntries: Backup['entries']): void {
  const previous = readBackup(file);
  // A file changed since the last wrap (Claude Code rewrites ~/.claude.json as it runs) can no
  // longer be restored byte for byte: unwrap then restores each entry and keeps the rest.
  const original = previous ? (previous.wrapped === text ? previous.original : null) : text;
  const entries = [...(previous?.entries ?? []).filter((kept) => !changedEntries.some((entry) => samePath(entry.path, kept.path)))];
  entries.push(...changedEntries);
  const backup: Backup = { version: 1, original, wrapped: changed, entries };
  writeFileSync(backupPath(file), `${JSON.stringify(backup, null, 2)}\n`, { mode: statSync(file).mode & 0o777 });
  writeFileSync(file, changed);
}

/**
 * Takes entries out of a client file (VS Code's `.vscode/mcp.json`, whose servers the
 * extension's local proxy then offers guarded), with the same backup as wrap: unwrap puts
 * them back. Returns the names taken out.
 */
export function moveOutFile(file: string, names: readonly string[], options: ReadOptions = {}): string[] {
  const text = readFileSync(file, 'utf8');
  const formatting = formattingOf(text);
  let changed = text;
  const moved: Backup['entries'] = [];
  for (const server of readClientConfig(text, file, options)) {
    if (!names.includes(server.name)) continue;
    changed = applyEdits(changed, modify(changed, server.path, undefined, { formattingOptions: formatting }));
    moved.push({ path: server.path, value: server.entry, removed: true });
  }
  if (moved.length > 0) saveWithBackup(file, text, changed, moved);
  return moved.map((entry) => String(entry.path.at(-1)));
}

export interface UnwrapResult {
  /** `bytes`: the original file came back byte for byte; `entries`: each wrapped entry was restored. */
  restored: 'bytes' | 'entries' | 'nothing';
  entries: string[];
  text: string;
}

/** Restores what wrap changed: byte for byte when the file is as wrap left it, else entry by entry. */
export function unwrapFile(file: string): UnwrapResult {
  const text = readFileSync(file, 'utf8');
  const backup = readBackup(file);
  if (!backup) {
    const wrapped = readClientConfig(text, file).filter((server) => server.wrapped);
    if (wrapped.length > 0) throw new Error(`${file}: ${wrapped.map((server) => server.name).join(', ')} start through mcp-policy, but ${backupPath(file)} is gone: edit the entries back by hand`);
    return { restored: 'nothing', entries: [], text };
  }
  const names = backup.entries.map((entry) => String(entry.path.at(-1)));
  if (text === backup.wrapped && backup.original !== null) {
    writeFileSync(file, backup.original);
    rmSync(backupPath(file));
    return { restored: 'bytes', entries: names, text: backup.original };
  }
  let restored = text;
  const formatting = formattingOf(text);
  const document = parseConfigText(text, file);
  const done: string[] = [];
  for (const entry of backup.entries) {
    let current: unknown = document;
    for (const key of entry.path) current = current && typeof current === 'object' ? (current as Record<string, unknown>)[String(key)] : undefined;
    // An entry the user has changed since is theirs now; one taken out (moveOutFile) comes back.
    if (entry.removed ? current !== undefined : !isWrappedEntry(current)) continue;
    restored = applyEdits(restored, modify(restored, entry.path, entry.value, { formattingOptions: formatting }));
    done.push(String(entry.path.at(-1)));
  }
  writeFileSync(file, restored);
  rmSync(backupPath(file));
  return { restored: 'entries', entries: done, text: restored };
}
