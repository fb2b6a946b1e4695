/**
 * Add Rule from the Tool Catalog, as text edits: where the rule must go so that it decides, and
 * the minimal edits that put it there (the language server's own edit functions, so the file's
 * formatting and neighbouring rules stay as they are). No vscode import: tested without VS Code.
 */
import { applyEdits, findNodeAtLocation, modify, parseTree, type Edit } from 'jsonc-parser';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { ToolCatalog } from '../core/catalog';
import { CompiledPolicy } from '../core/compile';
import { JsonDocument } from '../core/document';
import { formatJsonPath, type JsonPath } from '../core/jsonPath';
import type { Limit, Policy, Window } from '../core/model';
import { catalogRiskSource } from '../core/riskSelector';
import { sanitizePolicy } from '../core/sanitize';
import { inferFormatting, setValueEdits } from '../server/edits';
import { verdictOf, type ToolVerdict } from './catalogDecisions';

export type RuleAction = 'allow' | 'deny' | 'approve' | 'hide';

export interface RuleRequest {
  server: string | undefined;
  tool: string;
  action: RuleAction;
  /** Calls per window, for allow and approve. */
  limit?: { max: number; window: Window };
}

export interface RuleEditResult {
  text: string;
  /** JSON path of what was written: the rule, or the `hide` list. */
  path: JsonPath;
  /** How the edited policy decides the tool. */
  verdict: ToolVerdict | undefined;
  /** Whether what was written is what decides (false: e.g. a `hide` entry still wins over the new rule). */
  decides: boolean;
}

const WINDOWS: Record<string, Window> = { s: 'second', sec: 'second', second: 'second', m: 'minute', min: 'minute', minute: 'minute', h: 'hour', hour: 'hour', d: 'day', day: 'day' };

/** "10 per minute", "10/min", "5 per 30 s" → a limit; undefined when it is not one. */
export function parseLimit(text: string): { max: number; window: Window } | undefined {
  const match = /^\s*(\d+)\s*(?:per|\/|a|every)\s*(?:(\d+)\s*(?:s|sec|seconds?)|([a-z]+?)s?)\s*$/i.exec(text);
  if (!match) return undefined;
  const max = Number(match[1]);
  if (!Number.isSafeInteger(max) || max < 1) return undefined;
  if (match[2] !== undefined) {
    const seconds = Number(match[2]);
    return Number.isSafeInteger(seconds) && seconds >= 1 ? { max, window: seconds } : undefined;
  }
  const window = WINDOWS[(match[3] ?? '').toLowerCase()];
  return window ? { max, window } : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Where a rule for the tool decides: its existing exact rule (edited in place), else the server's
 * `tools` when the policy has one for this server (its rules come before the top-level ones, so a
 * glob there would beat a top-level rule), else top-level `tools`.
 */
export function ruleTarget(policyValue: unknown, server: string | undefined, tool: string): JsonPath {
  const value = isObject(policyValue) ? policyValue : {};
  const servers = isObject(value.servers) ? value.servers : {};
  const section = server !== undefined && isObject(servers[server]) ? servers[server] : undefined;
  if (section && isObject(section.tools) && tool in section.tools) return ['servers', server!, 'tools', tool];
  if (isObject(value.tools) && tool in value.tools && !(section && isObject(section.tools))) return ['tools', tool];
  if (section && isObject(section.tools)) return ['servers', server!, 'tools', tool];
  return ['tools', tool];
}

/** Applies the edits of one step and hands back the new text. */
function step(text: string, path: JsonPath, value: unknown): string {
  const document = TextDocument.create('file:///policy.json', 'jsonc', 0, text);
  const edits: Edit[] = setValueEdits(document, path, value, text).map((edit) => {
    const offset = document.offsetAt(edit.range.start);
    return { offset, length: document.offsetAt(edit.range.end) - offset, content: edit.newText };
  });
  return applyEdits(text, edits);
}

/** Appends to an array that exists, formatting only the new element. */
function append(text: string, arrayPath: JsonPath, value: unknown): string {
  const root = parseTree(text, [], { allowTrailingComma: true });
  const array = root && findNodeAtLocation(root, [...arrayPath]);
  if (!array || array.type !== 'array') return step(text, arrayPath, [value]);
  const edits = modify(text, [...arrayPath, array.children?.length ?? 0], value, { isArrayInsertion: true, formattingOptions: inferFormatting(text) });
  return applyEdits(text, edits);
}

export function addRuleEdits(text: string, request: RuleRequest, catalog: ToolCatalog): RuleEditResult {
  const document = new JsonDocument(text);
  if (document.hasParseErrors) throw new Error('the policy has syntax errors: fix them first (see the Problems view)');
  const value = document.value;
  let next = text;
  let path: JsonPath;
  if (request.action === 'hide') {
    const servers = isObject(value) && isObject(value.servers) ? value.servers : {};
    const section = request.server !== undefined ? servers[request.server] : undefined;
    path = isObject(section) && (isObject(section.tools) || Array.isArray(section.hide)) ? ['servers', request.server!, 'hide'] : ['hide'];
    const existing = document.nodeAt(path);
    const listed = existing?.type === 'array' && (existing.children ?? []).some((entry) => entry.value === request.tool);
    if (!listed) next = append(next, path, request.tool);
  } else {
    path = ruleTarget(value, request.server, request.tool);
    const rule = document.nodeAt(path);
    const limit: Limit | undefined = request.limit ? { window: request.limit.window, max: request.limit.max } : undefined;
    if (rule?.type === 'object') {
      // In place: the action changes, limits and checks already there stay.
      const hasAction = findNodeAtLocation(rule, ['action']) !== undefined;
      if (request.action === 'allow') {
        if (hasAction) next = step(next, [...path, 'action'], undefined);
      } else next = step(next, [...path, 'action'], request.action);
      if (limit) next = append(next, [...path, 'limits'], limit);
    } else {
      const fresh: Record<string, unknown> = {};
      if (request.action !== 'allow') fresh.action = request.action;
      if (limit) fresh.limits = [limit];
      next = step(next, path, fresh);
    }
  }
  const edited = new JsonDocument(next);
  const policy = sanitizePolicy(edited.value) as Policy | undefined;
  let verdict: ToolVerdict | undefined;
  if (policy && request.server !== undefined) {
    const compiled = new CompiledPolicy(policy, next);
    compiled.setToolRisk(catalogRiskSource(catalog));
    verdict = verdictOf(compiled, request.server, request.tool);
  }
  const written = formatJsonPath(path);
  const decides = verdict === undefined || (request.action === 'hide' ? verdict.effect === 'hidden' : verdict.rule === written);
  return { text: next, path, verdict, decides };
}

/** One replacement of the span that differs, so undo is one step and nothing around it is touched. */
export function changedSpan(before: string, after: string): { offset: number; length: number; content: string } {
  let start = 0;
  while (start < before.length && start < after.length && before.charCodeAt(start) === after.charCodeAt(start)) start++;
  let end = 0;
  while (end < before.length - start && end < after.length - start && before.charCodeAt(before.length - 1 - end) === after.charCodeAt(after.length - 1 - end)) end++;
  return { offset: start, length: before.length - start - end, content: after.slice(start, after.length - end) };
}
