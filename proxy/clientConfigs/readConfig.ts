import { homedir } from 'node:os';
import { dirname } from 'node:path';
import { parse, printParseErrorCode, type JSONPath, type ParseError } from 'jsonc-parser';
import type { Upstream } from '../../core';
import { clientOfPath, type ClientId } from './formats';
import { isWrappedEntry, policyUpstream } from './serverEntry';

export interface ConfigServer {
  /** The server's name in the client's file. */
  name: string;
  client: ClientId;
  file: string;
  /** `user`, `project`, or `project /abs/folder` for ~/.claude.json's per-project servers. */
  scope: string;
  /** Where the entry sits in the file, for jsonc-parser edits. */
  path: JSONPath;
  entry: unknown;
  /** Already started through mcp-policy. */
  wrapped: boolean;
  upstream?: Upstream;
  clientEnv: Record<string, string>;
  notes: string[];
  /** Why the entry cannot be imported, when it cannot. */
  problem?: string;
}

export interface ReadOptions {
  client?: ClientId;
  home?: string;
  /** The project folder for a project file (default: the folder holding `.vscode`, `.cursor`, `.gemini` or `.mcp.json`). */
  project?: string;
}

export class ConfigReadError extends Error {}

/** Line and column (1-based) of an offset, for error messages that name the place. */
export function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `${before.length}:${(before.at(-1)?.length ?? 0) + 1}`;
}

/** Parses a client file (comments and trailing commas allowed); throws ConfigReadError naming file:line:col. */
export function parseConfigText(text: string, file: string): Record<string, unknown> {
  const errors: ParseError[] = [];
  const value: unknown = parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  const first = errors[0];
  if (first) throw new ConfigReadError(`${file}:${lineColumn(text, first.offset)}: ${printParseErrorCode(first.error)}`);
  if (text.trim() === '') return {};
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new ConfigReadError(`${file}: expected a JSON object`);
  return value as Record<string, unknown>;
}

/** The maps of servers a file holds: VS Code's `servers`, everyone else's `mcpServers`, and ~/.claude.json's per-project ones. */
function serverMaps(client: ClientId, document: Record<string, unknown>, projectFolder: string | undefined, isClaudeUserFile: boolean): Array<{ path: JSONPath; scope: string; folder?: string }> {
  if (client === 'vscode') return [{ path: ['servers'], scope: projectFolder ? 'project' : 'user', ...(projectFolder ? { folder: projectFolder } : {}) }];
  if (isClaudeUserFile) {
    const maps: Array<{ path: JSONPath; scope: string; folder?: string }> = [{ path: ['mcpServers'], scope: 'user' }];
    const projects = document.projects;
    if (projects && typeof projects === 'object') {
      for (const folder of Object.keys(projects)) maps.push({ path: ['projects', folder, 'mcpServers'], scope: `project ${folder}`, folder });
    }
    return maps;
  }
  return [{ path: ['mcpServers'], scope: projectFolder ? 'project' : 'user', ...(projectFolder ? { folder: projectFolder } : {}) }];
}

function valueAt(document: unknown, path: JSONPath): unknown {
  let value = document;
  for (const key of path) {
    if (!value || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[String(key)];
  }
  return value;
}

/** The project folder a project-scoped file belongs to, or undefined for a user file. */
function projectOf(file: string, client: ClientId, home: string): string | undefined {
  const folder = dirname(file);
  if (client === 'claude-code') return file.endsWith('.claude.json') ? undefined : folder;
  if (client === 'claude-desktop' || client === 'windsurf') return undefined;
  // .vscode/mcp.json, .cursor/mcp.json, .gemini/settings.json: the folder above, unless it is the home folder.
  const above = dirname(folder);
  if (client === 'vscode' && !file.includes('/.vscode/')) return undefined;
  return above === home ? undefined : above;
}

/** Every server entry of one client file, converted to policy upstreams where possible. */
export function readClientConfig(text: string, file: string, options: ReadOptions = {}): ConfigServer[] {
  const client = options.client ?? clientOfPath(file) ?? (text.includes('"servers"') ? 'vscode' : 'claude-desktop');
  const home = options.home ?? homedir();
  const document = parseConfigText(text, file);
  const project = options.project ?? projectOf(file, client, home);
  const servers: ConfigServer[] = [];
  for (const map of serverMaps(client, document, project, client === 'claude-code' && file.endsWith('.claude.json'))) {
    const entries = valueAt(document, map.path);
    if (entries === undefined) continue;
    if (!entries || typeof entries !== 'object' || Array.isArray(entries)) throw new ConfigReadError(`${file}: ${map.path.join('.')} must be an object of servers`);
    for (const [name, entry] of Object.entries(entries)) {
      const base = { name, client, file, scope: map.scope, path: [...map.path, name], entry, wrapped: isWrappedEntry(entry) };
      if (base.wrapped) {
        servers.push({ ...base, clientEnv: {}, notes: [] });
        continue;
      }
      try {
        const converted = policyUpstream(entry, { client, home, ...(map.folder ? { workspaceFolder: map.folder } : {}) });
        servers.push({ ...base, upstream: converted.upstream, clientEnv: converted.clientEnv, notes: converted.notes });
      } catch (error) {
        servers.push({ ...base, clientEnv: {}, notes: [], problem: (error as Error).message });
      }
    }
  }
  return servers;
}
