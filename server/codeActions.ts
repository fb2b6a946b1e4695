import { CodeActionKind, type CodeAction, type Diagnostic, type TextEdit, type WorkspaceEdit } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { DiagnosticCode, isGlobPattern, type JsonPath, type PolicyDiagnostic } from '../core';
import { lspDiagnostics } from './diagnostics';
import type { AnalyzedPolicy } from './documents';
import { addPropertiesEdits, setValueEdits } from './edits';
import { identifierFixes } from './identifierFixes';
import { rulePath } from './policyPaths';
import { setOwn } from '../core/ownRecord';

/** The limit the issue recommends for a risky tool: 10 calls a minute per client credential. */
export const RECOMMENDED_LIMIT = { window: 'minute', max: 10, scope: 'grant' } as const;

/** A glob or a default can allow many risky tools; offering four fixes for each would bury the list. */
const TOOLS_PER_DIAGNOSTIC = 5;

const FIXABLE_BY_SUGGESTION = new Set<string>([DiagnosticCode.unknownTool, DiagnosticCode.unknownArgument, DiagnosticCode.unknownProperty]);

export interface CodeActionSettings {
  /** Version-checked documentChanges instead of a plain changes map. */
  documentChanges: boolean;
}

export function workspaceEdit(document: TextDocument, edits: TextEdit[], settings: CodeActionSettings): WorkspaceEdit {
  return settings.documentChanges
    ? { documentChanges: [{ textDocument: { uri: document.uri, version: document.version }, edits }] }
    : { changes: { [document.uri]: edits } };
}

/** Quick fixes for the diagnostics that touch [start, end] (offsets). */
export function codeActions(policy: AnalyzedPolicy, start: number, end: number, settings: CodeActionSettings): CodeAction[] {
  const actions: CodeAction[] = [];
  const lsp = lspDiagnostics(policy);
  policy.analysis.diagnostics.forEach((diagnostic, index) => {
    const shown = lsp[index];
    if (!shown) return;
    const from = diagnostic.range.offset;
    if (from > end || from + diagnostic.range.length < start) return;
    if (FIXABLE_BY_SUGGESTION.has(diagnostic.code)) actions.push(...suggestionFix(policy, diagnostic, shown, settings));
    if (diagnostic.code === DiagnosticCode.riskyAllow) actions.push(...riskyFixes(policy, diagnostic, shown, settings));
    if (diagnostic.code === DiagnosticCode.uncheckedIdentifier) actions.push(...identifierFixes(policy, diagnostic, shown, settings));
    // A test's server is a value, not a key: renaming it is the plain suggestion fix.
    if (diagnostic.code === DiagnosticCode.unknownServer && diagnostic.path[0] === 'tests') actions.push(...suggestionFix(policy, diagnostic, shown, settings));
  });
  return actions;
}

function suggestionFix(policy: AnalyzedPolicy, diagnostic: PolicyDiagnostic, shown: Diagnostic, settings: CodeActionSettings): CodeAction[] {
  const suggestion = diagnostic.data?.suggestion;
  if (typeof suggestion !== 'string') return [];
  const document = policy.textDocument;
  // The range is the string token itself (a key or a hide/required entry): replace it, quotes and all.
  const quoted = policy.text.charAt(diagnostic.range.offset) === '"';
  if (!quoted) return [];
  if (wouldDuplicate(policy, diagnostic, suggestion)) return [];
  const edit: TextEdit = {
    range: { start: document.positionAt(diagnostic.range.offset), end: document.positionAt(diagnostic.range.offset + diagnostic.range.length) },
    newText: JSON.stringify(suggestion),
  };
  return [{ title: `Change to "${suggestion}"`, kind: CodeActionKind.QuickFix, diagnostics: [shown], isPreferred: true, edit: workspaceEdit(document, [edit], settings) }];
}

/** Renaming a key to one its object already has would write a duplicate key. */
function wouldDuplicate(policy: AnalyzedPolicy, diagnostic: PolicyDiagnostic, suggestion: string): boolean {
  const last = diagnostic.path[diagnostic.path.length - 1];
  if (typeof last !== 'string') return false;
  const key = policy.json.rangeOf(diagnostic.path, 'key');
  if (key.offset !== diagnostic.range.offset) return false;
  const parent = policy.json.nodeAt(diagnostic.path.slice(0, -1));
  return parent?.type === 'object' && (parent.children ?? []).some((property) => property.children?.[0]?.value === suggestion);
}

interface Fix {
  title: string;
  path: JsonPath;
  value: unknown;
}

/** Add a limit, add validate_input, approve or deny: on the rule itself when it names the tool exactly, otherwise as a new exact rule. */
function riskyFixes(policy: AnalyzedPolicy, diagnostic: PolicyDiagnostic, shown: Diagnostic, settings: CodeActionSettings): CodeAction[] {
  const tools = Array.isArray(diagnostic.data?.tools) ? diagnostic.data.tools.filter((tool): tool is string => typeof tool === 'string') : [];
  const path = diagnostic.path;
  const rule = rulePath(path);
  const fixes: Fix[] = [];
  if (rule && !isGlobPattern(rule.key)) {
    fixes.push(
      { title: `Add a limit of 10 calls per minute to ${rule.key}`, path: [...path, 'limits'], value: [RECOMMENDED_LIMIT] },
      { title: `Add "validate_input": true to ${rule.key}`, path: [...path, 'validate_input'], value: true },
      { title: `Ask for approval before each call of ${rule.key}`, path: [...path, 'action'], value: 'approve' },
      { title: `Deny ${rule.key}`, path: [...path, 'action'], value: 'deny' },
    );
  } else {
    const section = rule ? path.slice(0, -1) : sectionForDefault(path);
    if (!section) return [];
    if (tools.length > TOOLS_PER_DIAGNOSTIC) return [...manyToolFixes(policy, section, tools, shown, settings), ...singleToolFixes(policy, section, tools.slice(0, TOOLS_PER_DIAGNOSTIC), shown, settings)];
    return singleToolFixes(policy, section, tools, shown, settings);
  }
  return fixActions(policy, fixes, shown, settings);
}

function singleToolFixes(policy: AnalyzedPolicy, section: JsonPath, tools: readonly string[], shown: Diagnostic, settings: CodeActionSettings): CodeAction[] {
  const fixes: Fix[] = [];
  for (const tool of tools) {
    const target = [...section, tool];
    fixes.push(
      { title: `Add a rule for ${tool} with a limit of 10 calls per minute`, path: target, value: { limits: [RECOMMENDED_LIMIT] } },
      { title: `Add a rule for ${tool} with "validate_input": true`, path: target, value: { validate_input: true } },
      { title: `Add a rule that asks for approval before each call of ${tool}`, path: target, value: { action: 'approve' } },
      { title: `Add a rule that denies ${tool}`, path: target, value: { action: 'deny' } },
    );
  }
  return fixActions(policy, fixes, shown, settings);
}

/**
 * Beyond the first few tools, one fix per kind covers every risky tool the glob or default
 * allows: no tool is left without a fix, and the list stays short.
 */
function manyToolFixes(policy: AnalyzedPolicy, section: JsonPath, tools: readonly string[], shown: Diagnostic, settings: CodeActionSettings): CodeAction[] {
  const document = policy.textDocument;
  const existing = new Set(Object.keys(rulesAt(policy, section)));
  const missing = tools.filter((tool) => !existing.has(tool));
  if (missing.length === 0) return [];
  const kinds: Array<[string, unknown]> = [
    [`Add rules for all ${missing.length} risky tools with a limit of 10 calls per minute`, { limits: [RECOMMENDED_LIMIT] }],
    [`Add rules for all ${missing.length} risky tools with "validate_input": true`, { validate_input: true }],
    [`Add rules that ask for approval before each call of all ${missing.length} risky tools`, { action: 'approve' }],
    [`Add rules that deny all ${missing.length} risky tools`, { action: 'deny' }],
  ];
  return kinds.map(([title, rule]) => ({
    title,
    kind: CodeActionKind.QuickFix,
    diagnostics: [shown],
    edit: workspaceEdit(document, addPropertiesEdits(document, section, missing.map((tool) => [tool, rule] as const), policy.text), settings),
  }));
}

function rulesAt(policy: AnalyzedPolicy, section: JsonPath): Record<string, unknown> {
  const node = policy.json.nodeAt(section);
  const out: Record<string, unknown> = {};
  for (const property of node?.type === 'object' ? (node.children ?? []) : []) {
    const key = property.children?.[0]?.value;
    if (typeof key === 'string') setOwn(out, key, true);
  }
  return out;
}

function fixActions(policy: AnalyzedPolicy, fixes: readonly Fix[], shown: Diagnostic, settings: CodeActionSettings): CodeAction[] {
  const document = policy.textDocument;
  return fixes.map((fix) => ({
    title: fix.title,
    kind: CodeActionKind.QuickFix,
    diagnostics: [shown],
    edit: workspaceEdit(document, setValueEdits(document, fix.path, fix.value, policy.text), settings),
  }));
}

/** A risky tool allowed by `default` gets its rule in `tools`; by `servers.S.default`, in `servers.S.tools`. */
function sectionForDefault(path: JsonPath): JsonPath | undefined {
  if (path.length === 1 && path[0] === 'default') return ['tools'];
  if (path.length === 3 && path[0] === 'servers' && path[2] === 'default') return ['servers', path[1] as string, 'tools'];
  return undefined;
}
