import { systemClock, type Clock } from './clock';
import { CompiledPolicy, type CallPlan, type ResolvedLimit } from './compile';
import { compileArgumentSchema } from './argumentValidation';
import { MemoryCounterStore, NO_LIMITS, type CounterStore, type LimitCheck, type ReserveResult, type Reservation } from './counters';
import type { ToolDrift } from './pinning';
import { newDecisionEvent, redact, type Decision, type DecisionEvent } from './events';

export interface ToolCall {
  server: string;
  tool: string;
  arguments?: unknown;
  /** One MCP session of one client. */
  session?: string;
  /** One client credential: an HTTP token, or the client of a stdio proxy. */
  grant?: string;
  /** "name version" from the client's initialize. */
  client?: string;
}

/** The drift of a tool from its catalog pin, or undefined when it matches (pinning.ts). */
export type DriftSource = (server: string, tool: string) => ToolDrift | undefined;

/** Where validate_input finds the tool's inputSchema: the upstream's tools/list, then the catalog. */
export type InputSchemaSource = (server: string, tool: string) => Record<string, unknown> | undefined;

export interface ApprovalRequest {
  server: string;
  tool: string;
  /** Redacted, as the audit log shows them. */
  arguments: unknown;
  rule: string;
  reason: string | undefined;
  timeoutMs: number;
  signal: AbortSignal;
}

export interface ApprovalAnswer {
  approved: boolean;
  /** Who answered, e.g. "VS Code" or "MCP client (elicitation)". */
  by?: string;
  reason?: string;
}

export type Approver = (request: ApprovalRequest) => Promise<ApprovalAnswer>;

/** Steps 1–5 of the decision order; approval (step 6) is asynchronous and done by decide(). */
export type Verdict =
  | { decision: Exclude<Decision, 'approved' | 'rejected'>; rule: string; reason: string; counter?: string; retryAfterMs?: number; plan: CallPlan }
  | { decision: 'approval_required'; rule: string; reason: string; plan: CallPlan; reservation: Reservation };

export interface EngineOptions {
  clock?: Clock;
  /** Where budgets live; a memory store of this engine's own when absent. */
  counters?: CounterStore;
  inputSchemas?: InputSchemaSource;
  /** What pinning compares against; without one (explain, tests) pinning has nothing to check. */
  drift?: DriftSource;
  /**
   * What makes this policy's unnamed counters its own in a store shared with other policies
   * (the policy file's path): a named counter is shared by name, by design.
   */
  policyIdentity?: string;
  /**
   * When an unanswered approval times out (after approval.timeout by default). A policy's
   * tests script "no answer" without waiting for it.
   */
  approvalTimer?: (timeoutMs: number) => Promise<void>;
}

export class PolicyEngine {
  readonly clock: Clock;
  private store: CounterStore;
  private compiled: CompiledPolicy;
  private inputSchemas: InputSchemaSource;
  private readonly drift: DriftSource | undefined;
  private readonly policyIdentity: string;
  private readonly approvalTimer: ((timeoutMs: number) => Promise<void>) | undefined;

  constructor(policy: CompiledPolicy, options: EngineOptions = {}) {
    this.compiled = policy;
    this.clock = options.clock ?? systemClock;
    this.store = options.counters ?? new MemoryCounterStore();
    this.inputSchemas = options.inputSchemas ?? (() => undefined);
    this.drift = options.drift;
    this.policyIdentity = options.policyIdentity ?? '';
    this.approvalTimer = options.approvalTimer;
  }

  get counters(): CounterStore {
    return this.store;
  }

  /** A reload that names another store: the next call counts there. */
  setCounters(store: CounterStore): void {
    this.store = store;
  }

  get policy(): CompiledPolicy {
    return this.compiled;
  }

  /** A hot reload: the next call is decided by the new policy; counters are kept. */
  setPolicy(policy: CompiledPolicy): void {
    this.compiled = policy;
  }

  setInputSchemaSource(source: InputSchemaSource): void {
    this.inputSchemas = source;
  }

  /** Steps 1–5. A call it admits has its units reserved. */
  async evaluate(call: ToolCall): Promise<Verdict> {
    return this.evaluateNow(call);
  }

  /**
   * evaluate() without a promise when nothing has to wait (no store, or a synchronous one): the
   * relay then forwards a call in the turn its request arrived, instead of after a chain of
   * microtasks (a quarter of the stdio relay's instructions went to promise jobs).
   */
  evaluateNow(call: ToolCall): Verdict | Promise<Verdict> {
    const plan = this.compiled.plan(call.server, call.tool);
    if (plan.hiddenBy) {
      return { decision: 'denied', rule: plan.hiddenBy.path, reason: `${call.tool} is hidden by "${plan.hiddenBy.pattern}"`, plan };
    }
    const pinning = this.drift && this.compiled.pinning(call.server);
    if (pinning) {
      const drift = this.drift!(call.server, call.tool);
      if (drift) return { decision: 'denied', rule: pinning, reason: drift.reason, plan };
    }
    if (plan.action === 'deny') {
      return { decision: 'denied', rule: plan.decidedBy, reason: denyReason(plan), plan };
    }
    const violations = this.checkArguments(plan, call.arguments);
    if (violations) return { decision: 'invalid_arguments', rule: plan.decidedBy, reason: violations.join('; '), plan };
    if (plan.limits.length === 0) return this.admitted(plan, NO_LIMITS, undefined);
    const checks: LimitCheck[] = plan.limits.map((limit) => ({ key: this.budgetKey(limit, call), windowMs: limit.windowMs, max: limit.max }));
    const pending = this.store.reserve(this.clock.now(), checks);
    return pending instanceof Promise ? pending.then((result) => this.afterReserve(plan, result)) : this.afterReserve(plan, pending);
  }

  private afterReserve(plan: CallPlan, result: ReserveResult): Verdict {
    if (result.outcome === 'limited') {
      const limit = plan.limits[result.blockedIndex]!;
      return {
        decision: 'rate_limited',
        rule: limit.rulePath,
        reason: `${limit.named ? 'counter' : 'limit'} ${limit.counter}: ${limit.describe} reached`,
        counter: limit.counter,
        retryAfterMs: result.retryAfterMs,
        plan,
      };
    }
    if (result.outcome === 'unavailable') {
      const limit = plan.limits[0]!;
      if (!this.compiled.countersFailOpen) {
        // Fail closed: a budget that cannot be counted is not spent.
        return {
          decision: 'denied',
          rule: limit.rulePath,
          reason: `${result.reason}; calls that need a limit are refused while it is down (counters.when_unreachable: "allow" would let them through uncounted)`,
          counter: limit.counter,
          plan,
        };
      }
      return this.admitted(plan, NO_LIMITS, `${result.reason}; the policy lets calls through uncounted (counters.when_unreachable: "allow")`);
    }
    return this.admitted(plan, result.reservation, undefined);
  }

  /** Steps 6 and 7 for a call its limits admitted: approval to ask for, or allowed. */
  private admitted(plan: CallPlan, reservation: Reservation, uncounted: string | undefined): Verdict {
    if (plan.action === 'approve') {
      return { decision: 'approval_required', rule: plan.decidedBy, reason: plan.rule?.rule.reason ?? 'this tool needs approval', plan, reservation };
    }
    const reason = allowReason(plan);
    return { decision: 'allowed', rule: plan.decidedBy, reason: uncounted ? `${reason} (${uncounted})` : reason, plan };
  }

  /** Scope, scope id and counter; an unnamed counter is private to its rule in its policy. */
  private budgetKey(limit: ResolvedLimit, call: ToolCall): string {
    const id = limit.scope === 'global' ? '' : limit.scope === 'session' ? (call.session ?? '') : (call.grant ?? '');
    return JSON.stringify([limit.scope, id, limit.named ? limit.counter : `${this.policyIdentity}#${limit.counter}`]);
  }

  /** The whole decision order, approval included, as a decision event. */
  /**
   * `cancelled` is the caller's (or makes it: only a call waiting for approval needs one): when
   * it aborts while a person is being asked (the client gave up on the call), the question is
   * withdrawn and the call is rejected, whatever the answer would have been.
   */
  async decide(call: ToolCall, approver?: Approver, cancelled?: AbortSignal | (() => AbortSignal)): Promise<DecisionEvent> {
    return this.decideNow(call, approver, cancelled);
  }

  /** decide() without a promise when nothing has to wait: no approval, a synchronous store. */
  decideNow(call: ToolCall, approver?: Approver, cancelled?: AbortSignal | (() => AbortSignal)): DecisionEvent | Promise<DecisionEvent> {
    const started = performance.now();
    const verdict = this.evaluateNow(call);
    if (verdict instanceof Promise) return verdict.then((settled) => this.decided(call, settled, started, approver, cancelled));
    return this.decided(call, verdict, started, approver, cancelled);
  }

  private decided(call: ToolCall, verdict: Verdict, started: number, approver: Approver | undefined, cancelled: AbortSignal | (() => AbortSignal) | undefined): DecisionEvent | Promise<DecisionEvent> {
    const evalMicros = Math.round((performance.now() - started) * 1000);
    const redactedArguments = redact(call.arguments ?? {}, this.compiled.redact);
    if (verdict.decision !== 'approval_required') {
      return this.event(call, redactedArguments, verdict.decision, verdict.rule, verdict.reason, evalMicros, verdict);
    }
    return this.askApprover(call, redactedArguments, verdict, approver, typeof cancelled === 'function' ? cancelled() : cancelled).then((answer) => {
      if (!answer.approved) verdict.reservation.release();
      return this.event(call, redactedArguments, answer.approved ? 'approved' : 'rejected', verdict.rule, answer.reason, evalMicros);
    });
  }

  private async askApprover(
    call: ToolCall,
    redactedArguments: unknown,
    verdict: Extract<Verdict, { decision: 'approval_required' }>,
    approver: Approver | undefined,
    cancelled: AbortSignal | undefined,
  ): Promise<{ approved: boolean; reason: string }> {
    const ruleReason = verdict.plan.rule?.rule.reason;
    const clientGaveUp = { approved: false, reason: 'the client cancelled the call while approval was pending' };
    if (cancelled?.aborted) return clientGaveUp;
    if (!approver) {
      return { approved: false, reason: `needs approval${ruleReason ? ` (${ruleReason})` : ''}, and no approver was reachable: not running in VS Code and the client does not support elicitation` };
    }
    const timeoutMs = this.compiled.approvalTimeoutMs;
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = this.approvalTimer
      ? this.approvalTimer(timeoutMs).then(() => 'timeout' as const)
      : new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), timeoutMs);
        });
    let onCancel: (() => void) | undefined;
    const cancellation = new Promise<'cancelled'>((resolve) => {
      onCancel = () => resolve('cancelled');
      cancelled?.addEventListener('abort', onCancel, { once: true });
    });
    try {
      const answer = await Promise.race([
        approver({ server: call.server, tool: call.tool, arguments: redactedArguments, rule: verdict.rule, reason: ruleReason, timeoutMs, signal: controller.signal }),
        timeout,
        cancellation,
      ]);
      if (answer === 'timeout') {
        controller.abort();
        return { approved: false, reason: `no answer from the approver within ${Math.round(timeoutMs / 1000)} s` };
      }
      if (answer === 'cancelled') {
        controller.abort();
        return clientGaveUp;
      }
      const by = answer.by ? ` by ${answer.by}` : '';
      return answer.approved
        ? { approved: true, reason: `approved${by}${ruleReason ? ` (${ruleReason})` : ''}` }
        : { approved: false, reason: answer.reason ?? `rejected${by}` };
    } catch (error) {
      controller.abort();
      return { approved: false, reason: `the approver failed: ${(error as Error).message}` };
    } finally {
      clearTimeout(timer);
      if (onCancel) cancelled?.removeEventListener('abort', onCancel);
    }
  }

  private checkArguments(plan: CallPlan, args: unknown): string[] | undefined {
    const value = args ?? {};
    const violations: string[] = [];
    if (plan.checkInputSchema) {
      const inputSchema = this.inputSchemas(plan.server, plan.tool);
      if (!inputSchema) {
        // Unknown schema: only a rule that asked for validation in so many words refuses the call.
        if (plan.validateInput) violations.push(`validate_input is set but the inputSchema of ${plan.tool} is unknown (neither the server's tools/list nor the catalog has it)`);
      } else {
        try {
          const result = compileArgumentSchema(inputSchema).check(value);
          if (!result.ok) violations.push(...result.violations);
        } catch (error) {
          violations.push(`the inputSchema of ${plan.tool} cannot be used: ${(error as Error).message}`);
        }
      }
    }
    const rule = plan.rule;
    if (!rule) return violations.length > 0 ? violations : undefined;
    const argumentsSchema = rule.argumentsSchema;
    if (argumentsSchema) {
      if ('error' in argumentsSchema) violations.push(`the rule's arguments schema is not valid: ${argumentsSchema.error}`);
      else {
        const result = argumentsSchema.check(value);
        if (!result.ok) for (const violation of result.violations) if (!violations.includes(violation)) violations.push(violation);
      }
    }
    return violations.length > 0 ? violations : undefined;
  }

  private event(
    call: ToolCall,
    redactedArguments: unknown,
    decision: Decision,
    rule: string,
    reason: string,
    evalMicros: number,
    verdict?: Verdict,
  ): DecisionEvent {
    const event = newDecisionEvent({
      server: call.server,
      tool: call.tool,
      arguments: redactedArguments,
      decision,
      rule,
      reason,
      policy: this.compiled.hash,
      evalMicros,
      session: call.session,
      grant: call.grant,
      client: call.client,
    });
    if (verdict && (verdict.decision === 'rate_limited' || verdict.decision === 'denied')) {
      if (verdict.counter !== undefined) event.counter = verdict.counter;
      if (verdict.retryAfterMs !== undefined) event.retryAfterMs = verdict.retryAfterMs;
    }
    return event;
  }
}

function denyReason(plan: CallPlan): string {
  if (plan.rule) return plan.rule.rule.reason ?? `the rule "${plan.rule.key}" denies ${plan.tool}`;
  return `no rule matches ${plan.tool} and the default is deny`;
}

function allowReason(plan: CallPlan): string {
  if (plan.rule) return plan.rule.rule.reason ?? `allowed by the rule "${plan.rule.key}"`;
  return `no rule matches ${plan.tool} and the default is allow`;
}

export { CompiledPolicy };
