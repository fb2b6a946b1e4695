import type { CatalogTool, ToolCatalog } from './catalog';
import { CompiledPolicy } from './compile';
import { compileGlob, isGlobPattern } from './glob';
import { formatJsonPath, type JsonPath } from './jsonPath';
import { DEFAULT_ACTION, type Policy, type Rule } from './model';
import { isRisky } from './risk';
import { catalogRiskSource, isSelectorKey } from './riskSelector';
import { forEachOwn, setOwn } from './ownRecord';

/** What resolving one catalog tool through the rules says, for the shadowed and risky checks. */
export interface ToolOutcome {
  /** pathText of the rule that decides the tool, if one does. */
  winner: string | undefined;
  risky: { key: string; path: JsonPath; part: 'key' | 'value'; label: string } | undefined;
  /** A risky tool an `allow` rule lets through, for the identifier check (identifierArguments.ts). */
  allowedRisky?: { path: JsonPath; pathText: string; rule: Rule; inputSchemaChecked: boolean };
}

interface SectionState {
  /** Rule key → its meaning (the rule as JSON, without its reason). */
  rules: Map<string, string>;
  /** Glob keys in written order: the earliest wins a tie. */
  globOrder: string[];
}

interface Snapshot {
  catalog: ToolCatalog;
  /** Everything but the rules that can change a plan: defaults, hide, all_tools, servers, selectors. */
  frame: string;
  sections: Map<SectionKey, SectionState>;
  /** server → tool → outcome, in the order the checks visit them. */
  outcomes: Map<string, Map<string, ToolOutcome>>;
}

/** A rule's meaning for a plan; its `reason` decides nothing. */
function meaning(rule: Rule): string {
  const { reason: _reason, ...rest } = rule;
  return JSON.stringify(rest);
}

/** Sections by server name; the top-level rules under undefined, so that no server name can take their place. */
type SectionKey = string | undefined;

/**
 * Made once per policy object (one per analysis): the semantic cache's key and the plan checks
 * both need every rule's meaning. Kept by the Policy, which no one changes once sanitized.
 */
const statesByPolicy = new WeakMap<Policy, Map<SectionKey, SectionState>>();

function sectionStates(policy: Policy): Map<SectionKey, SectionState> {
  const known = statesByPolicy.get(policy);
  if (known) return known;
  const states = new Map<SectionKey, SectionState>();
  const add = (server: string | undefined, tools: Record<string, Rule> | undefined): void => {
    const rules = new Map<string, string>();
    const globOrder: string[] = [];
    forEachOwn(tools, (key, rule) => {
      rules.set(key, meaning(rule));
      if (isGlobPattern(key)) globOrder.push(key);
    });
    states.set(server, { rules, globOrder });
  };
  for (const [server, section] of Object.entries(policy.servers ?? {})) add(server, section.tools);
  add(undefined, policy.tools);
  statesByPolicy.set(policy, states);
  return states;
}

/**
 * The policy's meaning as one string, equal exactly when all but the rules' reasons is: the
 * policy with each `tools` replaced by whether it is there, then each section's rules, key and
 * meaning. JSON never holds a raw control character, so the separators cannot occur in a part.
 */
export function policyMeaningKey(policy: Policy): string {
  const { tools, servers, ...rest } = policy;
  const sections: Record<string, unknown> = {};
  forEachOwn(servers, (server, { tools: serverTools, ...section }) => setOwn(sections, server, { ...section, tools: serverTools !== undefined }));
  const parts = [JSON.stringify({ ...rest, tools: tools !== undefined, servers: servers && sections })];
  for (const [server, state] of sectionStates(policy)) {
    parts.push(server === undefined ? '\u0002' : `\u0003${JSON.stringify(server)}`);
    state.rules.forEach((meaning, key) => parts.push(JSON.stringify(key), meaning));
  }
  return parts.join('\u0001');
}

/** The policy without its rules, plus its selector rules (a selector can decide any tool). */
function frameOf(policy: Policy): string {
  const selectors: Array<[string, string, string]> = [];
  const servers: Record<string, unknown> = {};
  for (const [server, section] of Object.entries(policy.servers ?? {})) {
    const { tools, ...rest } = section;
    setOwn(servers, server, rest);
    forEachOwn(tools, (key, rule) => isSelectorKey(key) && selectors.push([server, key, meaning(rule)]));
  }
  forEachOwn(policy.tools, (key, rule) => isSelectorKey(key) && selectors.push(['', key, meaning(rule)]));
  const { tools: _tools, servers: _servers, ...rest } = policy;
  return JSON.stringify({ rest, servers, selectors });
}

/**
 * The parts of CompiledPolicy's plan these checks read, without building and caching a full
 * plan for each of 10,000 tools: the rule found the same way, and the action as buildPlan gives it.
 */
function outcomeOf(compiled: CompiledPolicy, policy: Policy, server: string, tool: CatalogTool): ToolOutcome {
  const rule = compiled.findRule(server, tool.name);
  const winner = rule?.pathText;
  if (!isRisky(tool.risk)) return { winner, risky: undefined };
  const serverDefault = policy.servers?.[server]?.default;
  const action = rule ? rule.action : (serverDefault ?? policy.default ?? DEFAULT_ACTION);
  const hidden = compiled.findHide(server, tool.name) !== undefined;
  // As the plan has it (compile.ts): the input schema is checked unless the rule opts out.
  const allowedRisky = rule && !hidden && action === 'allow' ? { path: rule.path, pathText: rule.pathText, rule: rule.rule, inputSchemaChecked: rule.rule.validate_input !== false } : undefined;
  const checked = action !== 'allow' || (rule?.limits.length ?? 0) > 0 || rule?.rule.validate_input === true || Boolean(rule?.rule.arguments);
  if (checked || hidden) return { winner, risky: undefined, ...(allowedRisky ? { allowedRisky } : {}) };
  const path: JsonPath = rule ? rule.path : serverDefault !== undefined ? ['servers', server, 'default'] : ['default'];
  return { winner, risky: { key: formatJsonPath(path), path, part: rule ? 'key' : 'value', label: `${tool.name} (${tool.risk.class}, ${tool.risk.severity})` }, ...(allowedRisky ? { allowedRisky } : {}) };
}

/**
 * Every catalog tool resolved through the policy's rules, kept across edits: after an edit
 * that leaves the frame (defaults, hide, servers, selectors) and the order of the globs alone,
 * only the tools that a changed rule names or matches are resolved again.
 */
export class ToolOutcomes {
  private snapshot: Snapshot | undefined;

  outcomes(policy: Policy, catalog: ToolCatalog, compiled: () => CompiledPolicy): Map<string, Map<string, ToolOutcome>> {
    const frame = frameOf(policy);
    const sections = sectionStates(policy);
    const previous = this.snapshot;
    const changed = previous && previous.catalog === catalog && previous.frame === frame ? changedRules(previous.sections, sections) : undefined;
    if (!previous || !changed) {
      const outcomes = new Map<string, Map<string, ToolOutcome>>();
      const policyServers = new Set([...catalog.serverNames(), ...Object.keys(policy.servers ?? {})]);
      const resolved = compiled();
      for (const server of policyServers) {
        const byTool = new Map<string, ToolOutcome>();
        const tools = catalog.toolListFor(catalog.hasServer(server) ? server : undefined);
        for (let index = 0; index < tools.length; index++) byTool.set(tools[index]!.name, outcomeOf(resolved, policy, server, tools[index]!));
        outcomes.set(server, byTool);
      }
      this.snapshot = { catalog, frame, sections, outcomes };
      return outcomes;
    }
    if (changed.size > 0) {
      const work: Array<{ byTool: Map<string, ToolOutcome>; server: string; tool: CatalogTool }> = [];
      for (const [server, byTool] of previous.outcomes) {
        const scope = catalog.hasServer(server) ? server : undefined;
        for (const name of affectedTools(catalog, scope, [...(changed.get(undefined) ?? []), ...(changed.get(server) ?? [])])) {
          const tool = catalog.find(name, scope);
          if (tool && byTool.has(name)) work.push({ byTool, server, tool });
        }
      }
      if (work.length > 0) {
        const resolved = compileFor(policy, catalog, new Set(work.map((item) => item.tool.name)));
        for (const { byTool, server, tool } of work) byTool.set(tool.name, outcomeOf(resolved, policy, server, tool));
      }
    }
    previous.sections = sections;
    return previous.outcomes;
  }
}

/** Keys added, removed or changed per section; undefined when the sections or the globs' order differ (resolve everything). */
function changedRules(before: Map<SectionKey, SectionState>, after: Map<SectionKey, SectionState>): Map<SectionKey, Set<string>> | undefined {
  if (before.size !== after.size) return undefined;
  const changed = new Map<SectionKey, Set<string>>();
  for (const [section, now] of after) {
    const was = before.get(section);
    if (!was) return undefined;
    const keys = new Set<string>();
    for (const [key, value] of now.rules) if (was.rules.get(key) !== value) keys.add(key);
    for (const key of was.rules.keys()) if (!now.rules.has(key)) keys.add(key);
    // A glob that moved changes who wins a tie among the globs it overlaps: resolve everything.
    const stayed = (order: string[]): string[] => order.filter((key) => !keys.has(key));
    const a = stayed(was.globOrder);
    const b = stayed(now.globOrder);
    if (a.length !== b.length || a.some((key, index) => key !== b[index])) return undefined;
    if (keys.size > 0) changed.set(section, keys);
  }
  return changed;
}

/**
 * The policy compiled with only the rules that can decide one of `names`: rule lookup looks
 * at nothing else, and a filtered section keeps its written order, so ties go the same way.
 * Compiling 5,000 rules for the one tool an edit touched would cost more than the edit.
 */
function compileFor(policy: Policy, catalog: ToolCatalog, names: ReadonlySet<string>): CompiledPolicy {
  const list = [...names];
  const relevant = (tools: Record<string, Rule> | undefined): Record<string, Rule> => {
    const kept: Record<string, Rule> = {};
    for (const [key, rule] of Object.entries(tools ?? {})) {
      const keep = isSelectorKey(key) || (isGlobPattern(key) ? list.some((name) => compileGlob(key).matches(name)) : names.has(key));
      if (keep) setOwn(kept, key, rule);
    }
    return kept;
  };
  const servers: NonNullable<Policy['servers']> = {};
  for (const [server, section] of Object.entries(policy.servers ?? {})) setOwn(servers, server, { ...section, tools: relevant(section.tools) });
  const compiled = new CompiledPolicy({ ...policy, tools: relevant(policy.tools), servers });
  compiled.setToolRisk(catalogRiskSource(catalog));
  return compiled;
}

/** Catalog tools in scope that a changed key names or matches. */
function affectedTools(catalog: ToolCatalog, scope: string | undefined, keys: readonly string[]): Set<string> {
  const names = new Set<string>();
  const globs = keys.filter((key) => isGlobPattern(key)).map((key) => compileGlob(key));
  for (const key of keys) if (!isGlobPattern(key)) names.add(key);
  if (globs.length > 0) for (const name of catalog.toolNamesFor(scope)) if (globs.some((glob) => glob.matches(name))) names.add(name);
  return names;
}
