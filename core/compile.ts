import { createHash } from 'node:crypto';
import { compileArgumentSchema, type CompiledArgumentSchema } from './argumentValidation';
import { compileCaseInsensitiveGlob, compileGlob, type Glob } from './glob';
import { GlobIndex } from './globIndex';
import { formatJsonPath, type JsonPath } from './jsonPath';
import type { Risk } from './risk';
import { isSelectorKey, parseSelector, selectorCovers, severityRank, type RiskSelector, type ToolRiskSource } from './riskSelector';
import {
  DEFAULT_ACTION,
  DEFAULT_APPROVAL_TIMEOUT_SECONDS,
  DEFAULT_SCOPE,
  describeWindow,
  redactGlobs,
  windowMs,
  type Action,
  type Limit,
  type Policy,
  type Rule,
  type Scope,
} from './model';

/** A limit with its budget's identity resolved. */
export interface ResolvedLimit {
  /** Shared name, or the limit's own JSON path when it has none. */
  counter: string;
  named: boolean;
  scope: Scope;
  windowMs: number;
  max: number;
  /** "10 per minute" */
  describe: string;
  /** JSON path of what the limit belongs to, for the event's `rule`. */
  rulePath: string;
}

export interface CompiledRule {
  key: string;
  path: JsonPath;
  pathText: string;
  glob: Glob;
  rule: Rule;
  /** Position among the rules of its section: earliest wins a tie. */
  order: number;
  action: Action;
  limits: ResolvedLimit[];
  argumentsSchema?: CompiledArgumentSchema | { error: string };
  /** Set when the key is a risk-class selector such as `@destructive`. */
  selector?: RiskSelector;
}

export interface RuleSet {
  exact: Map<string, CompiledRule>;
  globs: GlobIndex<CompiledRule>;
  /** Well-formed selectors; a malformed one is a diagnostic and matches nothing. */
  selectors: CompiledRule[];
}

/** Everything about a (server, tool) pair that does not depend on the call's arguments. */
export interface CallPlan {
  server: string;
  tool: string;
  rule: CompiledRule | undefined;
  hiddenBy: { path: string; pattern: string } | undefined;
  action: Action;
  /** JSON path of what decided the action: the rule, or a `default`. */
  decidedBy: string;
  /** `validate_input: true` was written: a call whose input schema is unknown is refused. */
  validateInput: boolean;
  /**
   * Arguments are checked against the tool's input schema when it is known: the default for
   * every call that can go upstream, unless its rule says `validate_input: false`.
   */
  checkInputSchema: boolean;
  limits: ResolvedLimit[];
}

interface HideEntry {
  glob: Glob;
  path: string;
}

const PLAN_CACHE_LIMIT = 20000;

export class CompiledPolicy {
  private hashText: string | undefined;
  readonly approvalTimeoutMs: number;
  /** The counter store the policy names ("embedded" unless it says otherwise). */
  readonly counterStore: string;
  /** when_unreachable: allow — calls are admitted uncounted while the store is down. */
  readonly countersFailOpen: boolean;
  readonly redact: ReadonlyArray<(key: string) => boolean>;
  private readonly topRules: RuleSet;
  private readonly serverRules = new Map<string, RuleSet>();
  private readonly topHide: HideEntry[];
  private readonly serverHide = new Map<string, HideEntry[]>();
  private readonly topLimits: ResolvedLimit[];
  private readonly serverLimits = new Map<string, ResolvedLimit[]>();
  private readonly plans = new Map<string, Map<string, CallPlan>>();
  private planCount = 0;
  private toolRisk: ToolRiskSource = () => undefined;

  constructor(readonly policy: Policy, private readonly sourceText?: string) {
    this.approvalTimeoutMs = (policy.approval?.timeout ?? DEFAULT_APPROVAL_TIMEOUT_SECONDS) * 1000;
    const counters = typeof policy.counters === 'string' ? { store: policy.counters } : (policy.counters ?? {});
    this.counterStore = counters.store ?? 'embedded';
    this.countersFailOpen = counters.when_unreachable === 'allow';
    this.redact = redactGlobs(policy.audit).map(compileCaseInsensitiveGlob);
    this.topRules = compileRuleSet(policy.tools, ['tools']);
    this.topHide = compileHide(policy.hide, ['hide']);
    this.topLimits = resolveLimits(policy.all_tools?.limits, ['all_tools', 'limits'], undefined);
    for (const [name, section] of Object.entries(policy.servers ?? {})) {
      this.serverRules.set(name, compileRuleSet(section.tools, ['servers', name, 'tools']));
      this.serverHide.set(name, compileHide(section.hide, ['servers', name, 'hide']));
      this.serverLimits.set(name, resolveLimits(section.all_tools?.limits, ['servers', name, 'all_tools', 'limits'], undefined));
    }
  }

  /** The digest events and reloads name the policy by; made on first use (an editor never asks). */
  get hash(): string {
    this.hashText ??= `sha256:${createHash('sha256').update(this.sourceText ?? JSON.stringify(this.policy)).digest('hex')}`;
    return this.hashText;
  }

  get serverNames(): string[] {
    return Object.keys(this.policy.servers ?? {});
  }

  /** Where selectors learn a tool's class; plans made before are dropped. */
  setToolRisk(source: ToolRiskSource): void {
    this.toolRisk = source;
    this.riskChanged();
  }

  /** What the risk source knows has changed (a new listing): plans are made afresh. */
  riskChanged(): void {
    this.plans.clear();
    this.planCount = 0;
  }

  get hasSelectors(): boolean {
    return this.topRules.selectors.length > 0 || [...this.serverRules.values()].some((set) => set.selectors.length > 0);
  }

  /**
   * Rule lookup: the server's rules before the top-level ones; exact beats glob; selectors
   * (again the server's first) only when no name or glob matches.
   */
  findRule(server: string, tool: string): CompiledRule | undefined {
    const serverSet = this.serverRules.get(server);
    const named = (serverSet && lookup(serverSet, tool)) ?? lookup(this.topRules, tool);
    if (named) return named;
    if (!serverSet?.selectors.length && this.topRules.selectors.length === 0) return undefined;
    const risk = this.toolRisk(server, tool);
    if (!risk) return undefined;
    return (serverSet && lookupSelector(serverSet, risk)) ?? lookupSelector(this.topRules, risk);
  }

  findHide(server: string, tool: string): HideEntry | undefined {
    return this.topHide.find((entry) => entry.glob.matches(tool)) ?? this.serverHide.get(server)?.find((entry) => entry.glob.matches(tool));
  }

  isHidden(server: string, tool: string): boolean {
    return this.plan(server, tool).hiddenBy !== undefined;
  }

  /** callable_only of servers.S, else the top-level one; off by default so a PolicyLayer file keeps its meaning. */
  callableOnly(server: string): boolean {
    return this.policy.servers?.[server]?.callable_only ?? this.policy.callable_only ?? false;
  }

  /** Where pinning is decided for the server: the JSON path of the setting in force, or undefined when off. */
  pinning(server: string): string | undefined {
    const own = this.policy.servers?.[server]?.pinning;
    if (own !== undefined) return own ? formatJsonPath(['servers', server, 'pinning']) : undefined;
    return this.policy.pinning === true ? 'pinning' : undefined;
  }

  /** Whether tools/list shows the tool: not hidden, and under callable_only not denied by its rule or default. */
  isListed(server: string, tool: string): boolean {
    const plan = this.plan(server, tool);
    if (plan.hiddenBy) return false;
    return !this.callableOnly(server) || plan.action !== 'deny';
  }

  /**
   * Cached per (server, tool); a reload compiles a new policy, and what the risk source learns
   * (riskChanged) drops the cache, so it never goes stale.
   */
  plan(server: string, tool: string): CallPlan {
    let byTool = this.plans.get(server);
    const known = byTool?.get(tool);
    if (known) return known;
    const plan = this.buildPlan(server, tool);
    // Unbounded distinct names from a client must not grow memory without end.
    if (this.planCount >= PLAN_CACHE_LIMIT) {
      this.plans.clear();
      this.planCount = 0;
      byTool = undefined;
    }
    if (!byTool) {
      byTool = new Map();
      this.plans.set(server, byTool);
    }
    byTool.set(tool, plan);
    this.planCount++;
    return plan;
  }

  private buildPlan(server: string, tool: string): CallPlan {
    const rule = this.findRule(server, tool);
    const hide = this.findHide(server, tool);
    const section = this.policy.servers?.[server];
    let action: Action;
    let decidedBy: string;
    if (rule) {
      action = rule.action;
      decidedBy = rule.pathText;
    } else if (section?.default !== undefined) {
      action = section.default;
      decidedBy = formatJsonPath(['servers', server, 'default']);
    } else {
      action = this.policy.default ?? DEFAULT_ACTION;
      decidedBy = 'default';
    }
    const hiddenBy = hide ? { path: hide.path, pattern: hide.glob.pattern } : undefined;
    return {
      server,
      tool,
      rule,
      hiddenBy,
      action,
      decidedBy,
      validateInput: rule?.rule.validate_input === true,
      checkInputSchema: !hiddenBy && action !== 'deny' && rule?.rule.validate_input !== false,
      limits: [...(rule?.limits ?? []), ...(this.serverLimits.get(server) ?? []), ...this.topLimits],
    };
  }
}

/** An exact name beats every glob; among globs the most literal characters win, then the earliest. */
function lookup(set: RuleSet, tool: string): CompiledRule | undefined {
  const exact = set.exact.get(tool);
  if (exact) return exact;
  let best: CompiledRule | undefined;
  for (const rule of set.globs.matching(tool)) {
    if (!best || rule.glob.literalCount > best.glob.literalCount || (rule.glob.literalCount === best.glob.literalCount && rule.order < best.order)) best = rule;
  }
  return best;
}

/** The selector with the highest minimum severity that covers the risk wins; a tie goes to the first written. */
function lookupSelector(set: RuleSet, risk: Risk): CompiledRule | undefined {
  let best: CompiledRule | undefined;
  for (const rule of set.selectors) {
    if (!rule.selector || !selectorCovers(rule.selector, risk)) continue;
    if (!best || severityRank(rule.selector.minSeverity) > severityRank(best.selector!.minSeverity)) best = rule;
  }
  return best;
}

export function compileRuleSet(tools: Record<string, Rule> | undefined, basePath: JsonPath): RuleSet {
  const exact = new Map<string, CompiledRule>();
  const globs = new GlobIndex<CompiledRule>();
  const selectors: CompiledRule[] = [];
  let order = 0;
  const keys = Object.keys(tools ?? {});
  for (let index = 0; index < keys.length; index++) {
    const key = keys[index]!;
    const rule = tools![key]!;
    const path = [...basePath, key];
    const pathText = formatJsonPath(path);
    const compiled: CompiledRule = {
      key,
      path,
      pathText,
      glob: compileGlob(key),
      rule,
      order: order++,
      action: rule.action ?? 'allow',
      limits: resolveLimits(rule.limits, [...path, 'limits'], pathText),
    };
    if (rule.arguments && typeof rule.arguments === 'object') {
      try {
        compiled.argumentsSchema = compileArgumentSchema(rule.arguments);
      } catch (error) {
        compiled.argumentsSchema = { error: (error as Error).message };
      }
    }
    if (isSelectorKey(key)) {
      const selector = parseSelector(key);
      if (!('error' in selector)) selectors.push({ ...compiled, selector });
    } else if (compiled.glob.isGlob) globs.add(compiled.glob, compiled);
    else exact.set(key, compiled);
  }
  return { exact, globs, selectors };
}

function compileHide(patterns: readonly string[] | undefined, basePath: JsonPath): HideEntry[] {
  return (patterns ?? []).map((pattern, index) => ({ glob: compileGlob(pattern), path: formatJsonPath([...basePath, index]) }));
}

function resolveLimits(limits: readonly Limit[] | undefined, basePath: JsonPath, owner: string | undefined): ResolvedLimit[] {
  return (limits ?? []).map((limit, index) => {
    const ownPath = formatJsonPath([...basePath, index]);
    return {
      counter: limit.counter ?? ownPath,
      named: limit.counter !== undefined,
      scope: limit.scope ?? DEFAULT_SCOPE,
      windowMs: windowMs(limit.window),
      max: limit.max,
      describe: `${limit.max} per ${describeWindow(limit.window)}`,
      rulePath: owner ?? ownPath,
    };
  });
}
