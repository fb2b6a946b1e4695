import type { ToolCatalog } from './catalog';
import { CompiledPolicy } from './compile';
import { DiagnosticCode, type PolicyDiagnostic } from './diagnostic';
import type { JsonDocument } from './document';
import { compileGlob, globsOverlap, isGlobPattern, type Glob } from './glob';
import type { ToolOutcome } from './planChecks';
import { isSelectorKey } from './riskSelector';
import { checkSelectors } from './selectorChecks';
import { checkPinning } from './pinningChecks';
import { checkPinDrift } from './pinDriftChecks';
import { checkIdentifierArguments } from './identifierArguments';
import { formatJsonPath, type JsonPath } from './jsonPath';
import { describeWindow, windowMs, type Limit, type Policy, type Rule } from './model';
import { isObject } from './sanitize';
import { forEachOwn } from './ownRecord';
import { unknownSchemaKeys } from './schemaKeywords';
import { suggest } from './suggest';
import { freshFacts, type RuleFacts } from './ruleFacts';
import { ToolOutcomes } from './planChecks';

/** Rule sections in lookup order: each server's rules, then the top-level rules. */
interface Section {
  server: string | undefined;
  path: JsonPath;
  tools: Record<string, Rule>;
}

function sections(policy: Policy): Section[] {
  const list: Section[] = [];
  for (const [server, section] of Object.entries(policy.servers ?? {})) {
    list.push({ server, path: ['servers', server, 'tools'], tools: section.tools ?? {} });
  }
  list.push({ server: undefined, path: ['tools'], tools: policy.tools ?? {} });
  return list;
}

/**
 * What an editor keeps across keystrokes so that the catalog checks look again only at the
 * rules an edit changed (see ruleFacts.ts and planChecks.ts). Without one, everything is fresh.
 */
export interface SemanticMemo {
  facts: RuleFacts;
  outcomes: ToolOutcomes;
}

/** Checks that a schema cannot express. `compiled` may be a function: it is then called only if a plan is needed. */
export function semanticChecks(
  document: JsonDocument,
  policy: Policy,
  catalog: ToolCatalog | undefined,
  compiled?: CompiledPolicy | (() => CompiledPolicy),
  memo: SemanticMemo = { facts: freshFacts(catalog), outcomes: new ToolOutcomes() },
): PolicyDiagnostic[] {
  const out: PolicyDiagnostic[] = [];
  const facts = memo.facts;
  facts.useCatalog(catalog);
  checkSelectors(document, policy, catalog, out);
  checkPinning(document, policy, catalog, out);
  checkPinDrift(document, policy, catalog, out);
  checkCounters(document, policy, out);
  for (const section of sections(policy)) {
    checkTies(document, section, out);
    checkArgumentsSchemas(document, section, facts, out);
  }
  checkHiddenRules(document, policy, out);
  checkTopRulesShadowedByServers(document, policy, catalog, out);
  if (catalog && !catalog.isEmpty) {
    checkServersAgainstCatalog(document, policy, catalog, out);
    for (const section of sections(policy)) checkAgainstCatalog(document, section, catalog, facts, out);
    checkHideAgainstCatalog(document, policy, catalog, facts, out);
    const compile = typeof compiled === 'function' ? compiled : () => compiled ?? new CompiledPolicy(policy);
    const outcomes = memo.outcomes.outcomes(policy, catalog, compile);
    checkShadowedAndRisky(document, policy, catalog, outcomes, facts, out);
    checkIdentifierArguments(document, catalog, outcomes, out);
  }
  return out;
}

function checkCounters(document: JsonDocument, policy: Policy, out: PolicyDiagnostic[]): void {
  const seen = new Map<string, { limit: Limit; path: JsonPath }>();
  const visit = (limits: Limit[] | undefined, base: JsonPath): void => {
    (limits ?? []).forEach((limit, index) => {
      if (limit.counter === undefined) return;
      const path = [...base, index];
      const key = `${limit.scope ?? 'grant'}\u0000${limit.counter}`;
      const first = seen.get(key);
      if (!first) {
        seen.set(key, { limit, path });
        return;
      }
      // 60 and "minute" are one window: compare what is enforced, not how it is written.
      if (windowMs(first.limit.window) !== windowMs(limit.window) || first.limit.max !== limit.max) {
        const field = first.limit.max !== limit.max ? 'max' : 'window';
        out.push({
          code: DiagnosticCode.counterMismatch,
          severity: 'error',
          message: `counter "${limit.counter}" is ${first.limit.max} per ${describeWindow(first.limit.window)} at ${formatJsonPath(first.path)} but ${limit.max} per ${describeWindow(limit.window)} here: limits sharing a counter must agree on window and max`,
          range: document.rangeOf([...path, field]),
          path: [...path, field],
          data: { counter: limit.counter, first: formatJsonPath(first.path) },
        });
      }
    });
  };
  visit(policy.all_tools?.limits, ['all_tools', 'limits']);
  forEachOwn(policy.tools, (key, rule) => visit(rule.limits, ['tools', key, 'limits']));
  for (const [server, section] of Object.entries(policy.servers ?? {})) {
    visit(section.all_tools?.limits, ['servers', server, 'all_tools', 'limits']);
    forEachOwn(section.tools, (key, rule) => visit(rule.limits, ['servers', server, 'tools', key, 'limits']));
  }
}

function checkTies(document: JsonDocument, section: Section, out: PolicyDiagnostic[]): void {
  const globs: Array<{ key: string; order: number; glob: Glob; prefix: string }> = [];
  let order = 0;
  for (const key of Object.keys(section.tools)) {
    if (isGlobPattern(key)) globs.push({ key, order, glob: compileGlob(key), prefix: key.slice(0, key.indexOf('*')) });
    order++;
  }
  // Two globs can only overlap if one's literal prefix starts the other's: sorted, those are adjacent runs.
  globs.sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : a.order - b.order));
  const reported = new Set<string>();
  for (let i = 0; i < globs.length; i++) {
    const a = globs[i]!;
    for (let j = i + 1; j < globs.length && globs[j]!.prefix.startsWith(a.prefix); j++) {
      const b = globs[j]!;
      if (a.glob.literalCount !== b.glob.literalCount || !globsOverlap(a.key, b.key)) continue;
      const [first, later] = a.order < b.order ? [a, b] : [b, a];
      if (reported.has(later.key)) continue;
      reported.add(later.key);
      const path = [...section.path, later.key];
      out.push({
        code: DiagnosticCode.globTie,
        severity: 'warning',
        message: `"${later.key}" ties with "${first.key}" (both have ${later.glob.literalCount} literal characters): for a tool both match, "${first.key}" wins because it is written first`,
        range: document.rangeOf(path, 'key'),
        path,
        data: { other: first.key },
      });
    }
  }
}

function checkArgumentsSchemas(document: JsonDocument, section: Section, facts: RuleFacts, out: PolicyDiagnostic[]): void {
  const keys = Object.keys(section.tools);
  for (let index = 0; index < keys.length; index++) {
    const key = keys[index]!;
    const rule = section.tools[key]!;
    if (!rule.arguments) continue;
    for (const unknown of unknownSchemaKeys(rule.arguments)) {
      const at = [...section.path, key, 'arguments', unknown];
      out.push({
        code: DiagnosticCode.argumentsUnknownKeyword,
        severity: 'warning',
        message: `"${unknown}" is not a JSON Schema keyword, so it checks nothing: the schema of an argument goes under "properties" (e.g. "properties": { "${unknown}": { … } })`,
        range: document.rangeOf(at, 'key'),
        path: at,
      });
    }
    const error = facts.schemaError(rule.arguments);
    if (!error) continue;
    const path = [...section.path, key, 'arguments'];
    out.push({
      code: DiagnosticCode.invalidArgumentsSchema,
      severity: 'error',
      message: `arguments is not a valid JSON Schema: ${error}`,
      range: document.rangeOf(path),
      path,
    });
  }
}

function checkHiddenRules(document: JsonDocument, policy: Policy, out: PolicyDiagnostic[]): void {
  const topHide = policy.hide ?? [];
  for (const section of sections(policy)) {
    const hide = section.server === undefined ? topHide : [...topHide, ...(policy.servers?.[section.server]?.hide ?? [])];
    const globs = hide.map((pattern) => compileGlob(pattern));
    for (const key of Object.keys(section.tools)) {
      const hiddenBy = globs.find((glob) => (isGlobPattern(key) ? glob.pattern === key : glob.matches(key)));
      if (!hiddenBy) continue;
      const path = [...section.path, key];
      out.push({
        code: DiagnosticCode.hiddenRule,
        severity: 'warning',
        message: `"${key}" is hidden by "${hiddenBy.pattern}": hidden tools are always denied, so this rule never applies`,
        range: document.rangeOf(path, 'key'),
        path,
        data: { hide: hiddenBy.pattern },
      });
    }
  }
}

function checkAgainstCatalog(document: JsonDocument, section: Section, catalog: ToolCatalog, facts: RuleFacts, out: PolicyDiagnostic[]): void {
  const scope = section.server !== undefined && catalog.hasServer(section.server) ? section.server : undefined;
  const where = scope !== undefined ? `server "${scope}"` : 'the tool catalog';
  const matchedGlobs = facts.matchingAny(catalog, scope, Object.keys(section.tools).filter(isGlobPattern));
  const keys = Object.keys(section.tools);
  for (let index = 0; index < keys.length; index++) {
    const key = keys[index]!;
    const rule = section.tools[key]!;
    if (isSelectorKey(key)) continue; // checked by checkSelectors
    const path = [...section.path, key];
    if (isGlobPattern(key)) {
      if (!matchedGlobs.has(key)) {
        out.push({ code: DiagnosticCode.globMatchesNothing, severity: 'warning', message: `"${key}" matches no tool in ${where}`, range: document.rangeOf(path, 'key'), path });
      }
      continue;
    }
    const tool = catalog.find(key, scope);
    if (!tool) {
      const guess = facts.suggestion(catalog, scope, key);
      // Renaming to a name that already has its rule here would write a duplicate key: no fix then.
      const taken = guess !== undefined && Object.prototype.hasOwnProperty.call(section.tools, guess);
      out.push({
        code: DiagnosticCode.unknownTool,
        severity: 'warning',
        message: `unknown tool "${key}" (not in ${where})${guess ? `; did you mean "${guess}"?${taken ? ` It has a rule of its own here already: merge the two` : ''}` : ''}`,
        range: document.rangeOf(path, 'key'),
        path,
        data: guess && !taken ? { suggestion: guess } : {},
      });
      continue;
    }
    checkArgumentNames(document, path, rule, tool.inputSchema, out);
  }
}

function* notIn(names: Iterable<string>, taken: Record<string, unknown>): Iterable<string> {
  for (const name of names) if (!Object.prototype.hasOwnProperty.call(taken, name)) yield name;
}

/** A server section the catalog does not know gets no tool checks at all: say so on its name. */
function checkServersAgainstCatalog(document: JsonDocument, policy: Policy, catalog: ToolCatalog, out: PolicyDiagnostic[]): void {
  const known = catalog.serverNames();
  for (const server of Object.keys(policy.servers ?? {})) {
    if (catalog.hasServer(server)) continue;
    const guess = suggest(server, [...notIn(known, policy.servers ?? {})]);
    const path = ['servers', server];
    out.push({
      code: DiagnosticCode.unknownServer,
      severity: 'warning',
      message: `the tool catalog has no server "${server}"${guess ? `; did you mean "${guess}"?` : ''}: its rules are checked against every catalog tool (catalog servers: ${known.join(', ')})`,
      range: document.rangeOf(path, 'key'),
      path,
      data: guess ? { suggestion: guess } : {},
    });
  }
}

/**
 * The server's own rules are looked up before the top-level ones, so a top-level rule for a
 * tool that a `servers.S.tools` rule also matches never decides a call through S. Reported
 * when that holds for every server the tool can come from (all of them, without a catalog).
 */
function checkTopRulesShadowedByServers(document: JsonDocument, policy: Policy, catalog: ToolCatalog | undefined, out: PolicyDiagnostic[]): void {
  const servers = Object.entries(policy.servers ?? {});
  if (servers.length === 0) return;
  const serverGlobs = servers.map(([server, section]) => {
    const rules = Object.keys(section.tools ?? {}).map((key) => ({ key, glob: compileGlob(key) }));
    return { server, exact: new Set(rules.filter((rule) => !rule.glob.isGlob).map((rule) => rule.key)), globs: rules.filter((rule) => rule.glob.isGlob) };
  });
  const useCatalog = catalog !== undefined && !catalog.isEmpty;
  const catalogServers = useCatalog ? catalog.serverNames() : [];
  for (const key of Object.keys(policy.tools ?? {})) {
    if (isGlobPattern(key)) continue;
    const shadowing: Array<{ server: string; by: string }> = [];
    let reachable = false;
    for (let index = 0; index < serverGlobs.length; index++) {
      const { server, exact, globs } = serverGlobs[index]!;
      if (useCatalog && catalog.hasServer(server) && !catalog.find(key, server)) continue;
      // The server's own exact rule for the tool is a deliberate override, not an accident.
      if (exact.has(key)) continue;
      const by = globs.find((rule) => rule.glob.matches(key))?.key;
      if (by === undefined) reachable = true;
      else shadowing.push({ server, by: formatJsonPath(['servers', server, 'tools', by]) });
    }
    if (shadowing.length === 0) continue;
    // A catalog server without a section of its own always reaches the top-level rule. Asked
    // only for shadowed rules: it is a lookup per catalog server, for each of thousands of rules.
    reachable ||= useCatalog && catalogServers.some((server) => !policy.servers?.[server] && catalog.find(key, server) !== undefined);
    const path = ['tools', key];
    const names = shadowing.map((entry) => `"${entry.server}"`).join(', ');
    const by = shadowing.map((entry) => entry.by).join(', ');
    out.push({
      code: DiagnosticCode.ruleNeverApplies,
      severity: 'warning',
      message: `"${key}" ${reachable ? `does not apply to server ${names}` : 'never applies'}: ${by} ${shadowing.length === 1 ? 'decides' : 'decide'} this tool first, because a server's own rules come before the top-level ones`,
      range: document.rangeOf(path, 'key'),
      path,
      data: { by: shadowing.map((entry) => entry.by) },
    });
  }
}

function checkArgumentNames(document: JsonDocument, rulePath: JsonPath, rule: Rule, inputSchema: Record<string, unknown>, out: PolicyDiagnostic[]): void {
  const declared = isObject(inputSchema.properties) ? Object.keys(inputSchema.properties) : [];
  const open = inputSchema.additionalProperties !== false && declared.length === 0;
  if (open || !rule.arguments) return;
  const report = (name: string, path: JsonPath, part: 'key' | 'value'): void => {
    if (declared.includes(name)) return;
    const guess = suggest(name, declared);
    out.push({
      code: DiagnosticCode.unknownArgument,
      severity: 'warning',
      message: `the tool has no argument "${name}"${guess ? `; did you mean "${guess}"?` : ''} (its arguments: ${declared.join(', ') || 'none'})`,
      range: document.rangeOf(path, part),
      path,
      data: guess ? { suggestion: guess } : {},
    });
  };
  const properties = rule.arguments.properties;
  if (isObject(properties)) for (const name of Object.keys(properties)) report(name, [...rulePath, 'arguments', 'properties', name], 'key');
  const required = rule.arguments.required;
  if (Array.isArray(required)) {
    required.forEach((name, index) => {
      if (typeof name === 'string') report(name, [...rulePath, 'arguments', 'required', index], 'value');
    });
  }
}

function checkHideAgainstCatalog(document: JsonDocument, policy: Policy, catalog: ToolCatalog, facts: RuleFacts, out: PolicyDiagnostic[]): void {
  const visit = (hide: string[] | undefined, base: JsonPath, server: string | undefined): void => {
    const scope = server !== undefined && catalog.hasServer(server) ? server : undefined;
    (hide ?? []).forEach((pattern, index) => {
      const glob = compileGlob(pattern);
      if (facts.matchesAny(catalog, scope, pattern)) return;
      const path = [...base, index];
      const guess = glob.isGlob ? undefined : facts.suggestion(catalog, scope, pattern);
      out.push({
        code: glob.isGlob ? DiagnosticCode.globMatchesNothing : DiagnosticCode.unknownTool,
        severity: 'warning',
        message: glob.isGlob ? `"${pattern}" hides no tool of the catalog` : `unknown tool "${pattern}"${guess ? `; did you mean "${guess}"?` : ''}`,
        range: document.rangeOf(path),
        path,
        data: guess ? { suggestion: guess } : {},
      });
    });
  };
  visit(policy.hide, ['hide'], undefined);
  for (const [server, section] of Object.entries(policy.servers ?? {})) visit(section.hide, ['servers', server, 'hide'], server);
}

/**
 * Every catalog tool resolved through the rules (kept across edits by ToolOutcomes) finds
 * globs that never decide anything, and risky tools allowed with neither a limit nor an
 * argument check.
 */
function checkShadowedAndRisky(document: JsonDocument, policy: Policy, catalog: ToolCatalog, outcomes: Map<string, Map<string, ToolOutcome>>, facts: RuleFacts, out: PolicyDiagnostic[]): void {
  const winners = new Set<string>();
  const risky = new Map<string, { path: JsonPath; part: 'key' | 'value'; tools: string[] }>();
  // forEach, not for…of: no entry or step object per tool in code not yet optimized (ownRecord.ts).
  outcomes.forEach((byTool) =>
    byTool.forEach((outcome) => {
      if (outcome.winner !== undefined) winners.add(outcome.winner);
      if (!outcome.risky) return;
      const entry = risky.get(outcome.risky.key) ?? { path: outcome.risky.path, part: outcome.risky.part, tools: [] };
      if (!entry.tools.includes(outcome.risky.label)) entry.tools.push(outcome.risky.label);
      risky.set(outcome.risky.key, entry);
    }),
  );
  // A glob that matches a tool its rules apply to (checkAgainstCatalog's scope) and decides none of them.
  const matchedGlobs = new Map<string, JsonPath>();
  for (const section of sections(policy)) {
    const scope = section.server !== undefined && catalog.hasServer(section.server) ? section.server : undefined;
    for (const key of facts.matchingAny(catalog, scope, Object.keys(section.tools).filter(isGlobPattern))) {
      const path = [...section.path, key];
      matchedGlobs.set(formatJsonPath(path), path);
    }
  }
  for (const [text, path] of matchedGlobs) {
    if (winners.has(text)) continue;
    out.push({
      code: DiagnosticCode.shadowedRule,
      severity: 'info',
      message: `"${String(path[path.length - 1])}" never decides a call: every catalog tool it matches is decided by a more specific rule`,
      range: document.rangeOf(path, 'key'),
      path,
    });
  }
  for (const { path, part, tools } of risky.values()) {
    const subject = tools.length === 1 ? tools[0] : `${tools.length} risky tools: ${tools.join(', ')}`;
    out.push({
      code: DiagnosticCode.riskyAllow,
      severity: 'warning',
      message: `allows ${subject} with no limit and no argument check: add a limit or "validate_input": true, or set "action" to "approve" or "deny"`,
      range: document.rangeOf(path, part),
      path,
      data: { tools: tools.map((label) => label.slice(0, label.indexOf(' ('))) },
    });
  }
}
