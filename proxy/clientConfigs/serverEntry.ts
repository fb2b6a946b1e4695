import { basename } from 'node:path';
import type { Upstream } from '../../core';
import { inputVariable } from '../upstreamReferences';
import type { ClientId } from './formats';
import { setOwn } from '../../core/ownRecord';

/** The launcher's file name: an entry whose command ends in it and runs `proxy … --server S` is already guarded. */
export const LAUNCHER_NAME = 'mcp-policy';

/** Keys that say how a client starts or reaches a server; every other key of an entry (e.g. Gemini's `trust`) is kept by wrap. */
export const TRANSPORT_KEYS = new Set(['type', 'transport', 'command', 'args', 'env', 'envFile', 'cwd', 'url', 'serverUrl', 'httpUrl', 'headers']);

/** Names of env variables and headers whose literal values are credentials. */
const SECRET_NAME = /token|secret|passw|api[_-]?key|apikey|auth|credential|private[_-]?key|cookie|session/i;

export interface PolicyUpstream {
  /** The upstream as the policy holds it: references, never a credential in clear. */
  upstream: Upstream;
  /**
   * Variables a wrapped entry must set for the proxy, so the references resolve: VS Code
   * inputs (`${input:ID}`, which VS Code fills in) and credentials the client file already
   * holds in clear (kept there, not copied into the policy).
   */
  clientEnv: Record<string, string>;
  notes: string[];
}

export interface EntryContext {
  client: ClientId;
  /** The folder `${workspaceFolder}` means, for a project's file. */
  workspaceFolder?: string;
  home: string;
}

/** Whether an entry already starts its server through mcp-policy's guarded proxy. */
export function isWrappedEntry(entry: unknown): boolean {
  if (!entry || typeof entry !== 'object') return false;
  const { command, args } = entry as { command?: unknown; args?: unknown };
  return typeof command === 'string' && basename(command) === LAUNCHER_NAME && Array.isArray(args) && args[0] === 'proxy' && args.includes('--server');
}

function stringRecord(value: unknown, field: string, notes: string[]): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error(`"${field}" must be an object of strings`);
  const result: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    if (typeof item === 'string') setOwn(result, key, item);
    else if (typeof item === 'number' || typeof item === 'boolean') setOwn(result, key, String(item));
    else notes.push(`${field}.${key} is not a string and was left out`);
  }
  return result;
}

/** The client's own variable syntax, turned into the policy's `${env:NAME}` / `${input:ID}`. */
function toPolicyReferences(text: string, context: EntryContext, notes: string[]): string {
  switch (context.client) {
    case 'claude-code':
      // ${VAR} and ${VAR:-default}
      return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}/g, (_, name: string, fallback: string | undefined) => `\${env:${name}${fallback ?? ''}}`);
    case 'gemini':
      return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_, braced: string | undefined, bare: string | undefined) => `\${env:${braced ?? bare}}`);
    case 'claude-desktop':
      return text;
    default:
      // VS Code, Cursor, Windsurf: ${env:NAME} is already the policy's form.
      return text.replace(/\$\{([^}]+)\}/g, (whole, inner: string) => {
        if (inner === 'workspaceFolder' && context.workspaceFolder) return context.workspaceFolder;
        if (inner === 'userHome') return context.home;
        if (inner === 'pathSeparator') return '/';
        if (inner.startsWith('env:')) return whole;
        if (inner.startsWith('input:') && context.client === 'vscode') return whole;
        notes.push(`${whole} is not a variable the proxy knows; it is passed as written`);
        return whole;
      });
  }
}

/**
 * Converts one server entry of a client file into a policy upstream. Throws with a readable
 * reason when the entry says neither a command nor a URL.
 */
export function policyUpstream(entry: unknown, context: EntryContext): PolicyUpstream {
  if (!entry || typeof entry !== 'object' || Array.isArray(entry)) throw new Error('the entry is not an object');
  const raw = entry as Record<string, unknown>;
  const notes: string[] = [];
  const clientEnv: Record<string, string> = {};
  const convert = (text: string): string => toPolicyReferences(text, context, notes);
  const keepSecret = (name: string, value: string, variable: string): string => {
    // A credential written in clear stays in the client's file; the policy refers to it.
    if (!SECRET_NAME.test(name) || value.includes('${')) return value;
    clientEnv[variable] = value;
    return `\${env:${variable}}`;
  };
  const passInputs = (text: string): void => {
    for (const match of text.matchAll(/\$\{input:([^}]+)\}/g)) clientEnv[inputVariable(match[1]!)] = match[0];
  };

  const url = [raw.url, raw.serverUrl, raw.httpUrl].find((value): value is string => typeof value === 'string');
  const type = typeof raw.type === 'string' ? raw.type : typeof raw.transport === 'string' ? raw.transport : undefined;
  if (typeof raw.command === 'string' && raw.command.length > 0) {
    if (raw.args !== undefined && (!Array.isArray(raw.args) || raw.args.some((arg) => typeof arg !== 'string'))) throw new Error('"args" must be an array of strings');
    const args = ((raw.args as string[] | undefined) ?? []).map(convert);
    const env = stringRecord(raw.env, 'env', notes);
    const policyEnv: Record<string, string> = {};
    for (const [key, value] of Object.entries(env ?? {})) setOwn(policyEnv, key, keepSecret(key, convert(value), key));
    if (typeof raw.envFile === 'string') notes.push(`envFile ${raw.envFile} is not read: set its variables in the environment, or as \${env:…} in servers.*.upstream.env`);
    const command = convert(raw.command);
    const upstream: Upstream = { command, ...(args.length > 0 ? { args } : {}), ...(Object.keys(policyEnv).length > 0 ? { env: policyEnv } : {}) };
    if (typeof raw.cwd === 'string') upstream.cwd = convert(raw.cwd);
    else if (context.workspaceFolder) upstream.cwd = context.workspaceFolder;
    for (const text of [command, ...args, ...Object.values(policyEnv), upstream.cwd ?? '']) passInputs(text);
    return { upstream, clientEnv, notes };
  }
  if (url) {
    if (type === 'sse' || (context.client === 'gemini' && typeof raw.url === 'string' && raw.httpUrl === undefined)) {
      notes.push('the client reaches this server over SSE; the proxy speaks Streamable HTTP to it, which the server must support');
    }
    const headers = stringRecord(raw.headers, 'headers', notes);
    const policyHeaders: Record<string, string> = {};
    for (const [key, value] of Object.entries(headers ?? {})) {
      setOwn(policyHeaders, key, keepSecret(key, convert(value), `MCP_POLICY_HEADER_${key.replace(/[^A-Za-z0-9]/g, '_').toUpperCase()}`));
    }
    const upstream: Upstream = { url: convert(url), ...(Object.keys(policyHeaders).length > 0 ? { headers: policyHeaders } : {}) };
    for (const text of [upstream.url, ...Object.values(policyHeaders)]) passInputs(text);
    return { upstream, clientEnv, notes };
  }
  throw new Error('the entry has neither "command" nor a URL');
}
