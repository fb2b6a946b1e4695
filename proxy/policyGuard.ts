/**
 * The state every session of one proxy shares: the policy in force (hot-reloaded), the engine
 * and its counters, the input schemas seen upstream, the audit sink and the event emitter.
 */
import { EventEmitter } from 'node:events';
import { dirname, join, resolve } from 'node:path';
import { CATALOG_FILE_NAME, driftOf, loadPolicyFile, PolicyEngine, type PinnedDefinition, type ToolDrift, type Approver, type CounterStore, type DecisionEvent, type LoadedPolicy, type StoreHealth, type ToolCatalog } from '../core';
import { counterStoreSpec, openCounterStore, sameSpec, type CounterStoreSpec } from '../core/counterStores/openStore';
import { escapeControl, type AuditSink } from './auditLog';
import { FileWatch } from './fileWatch';
import { UpstreamSchemas } from './upstreamSchemas';
import type { ProxyHostEvents, UpstreamOutcome } from './host';
import { writeStderr } from './stderrLine';

export interface PolicyGuardOptions {
  policyPath: string;
  catalogFiles?: string[];
  audit?: AuditSink;
  approver?: Approver;
  /** Overrides the store the policy and MCP_POLICY_COUNTERS name (tests, embedders). */
  counters?: CounterStore;
}

/** "file:line:col: error: message [code]" for each error of a policy that does not compile. */
export function policyErrors(loaded: LoadedPolicy): string[] {
  const lines = loaded.document.lines;
  return loaded.diagnostics
    .filter((diagnostic) => diagnostic.severity === 'error')
    .map((diagnostic) => {
      const { line, character } = lines.positionAt(diagnostic.range.offset);
      return `${loaded.path}:${line + 1}:${character + 1}: error: ${diagnostic.message} [${diagnostic.code}]`;
    });
}

export class PolicyLoadError extends Error {
  constructor(readonly errors: string[]) {
    super(`the policy has errors; no proxy started:\n${errors.join('\n')}`);
  }
}

const RELOAD_DEBOUNCE_MS = 100;

export class PolicyGuard extends EventEmitter<ProxyHostEvents> {
  readonly policyPath: string;
  readonly policyFolder: string;
  readonly engine: PolicyEngine;
  readonly approver: Approver | undefined;
  private loaded: LoadedPolicy;
  private catalog: ToolCatalog;
  /** Input schemas from upstream tools/list answers, by server: any session's answer serves all. */
  readonly upstreamSchemas = new UpstreamSchemas();
  private watcher: FileWatch | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;
  private counterSpec: CounterStoreSpec | undefined;

  constructor(private readonly options: PolicyGuardOptions) {
    super();
    this.policyPath = resolve(options.policyPath);
    this.policyFolder = dirname(this.policyPath);
    this.approver = options.approver;
    const loaded = loadPolicyFile(this.policyPath, options.catalogFiles ?? []);
    if (!loaded.compiled) throw new PolicyLoadError(policyErrors(loaded));
    this.loaded = loaded;
    this.catalog = loaded.catalog;
    let counters = options.counters;
    if (!counters) {
      try {
        this.counterSpec = counterStoreSpec(loaded.compiled.counterStore);
      } catch (error) {
        throw new PolicyLoadError([`${this.policyPath}: ${(error as Error).message}`]);
      }
      counters = this.openStore(this.counterSpec);
    }
    this.useLiveRisk(loaded);
    this.upstreamSchemas.onChange((server) => {
      this.engine.policy.riskChanged();
      this.reportDrift(server);
    });
    this.engine = new PolicyEngine(loaded.compiled, {
      drift: (server, tool) => this.driftOf(server, tool),
      counters,
      policyIdentity: this.policyPath,
      inputSchemas: (server, tool) => this.inputSchema(server, tool),
    });
  }

  /** Selectors take a tool's class from the catalog, else from the tool as the upstream lists it. */
  private useLiveRisk(loaded: LoadedPolicy): void {
    // this.catalog at call time: a catalog rewritten under an unchanged policy takes effect too.
    loaded.compiled?.setToolRisk((server, tool) => this.catalog.find(tool, server)?.risk ?? this.upstreamSchemas.risk(server, tool));
  }

  /** How the tool as the server lists it now differs from its pin in the catalog; undefined when it matches. */
  driftOf(server: string, tool: string): ToolDrift | undefined {
    return driftOf(server, this.upstreamSchemas.definition(server, tool) as PinnedDefinition | undefined, this.catalog.pinned(server, tool), tool);
  }

  private readonly reportedDrift = new Set<string>();

  /** Each drifted definition once: stderr, the audit log and a `drift` event, whether pinning enforces it or not. */
  private reportDrift(server: string): void {
    if (this.catalog.isEmpty) return;
    const enforced = this.engine?.policy.pinning(server) !== undefined;
    for (const definition of this.upstreamSchemas.definitions(server)) {
      const tool = definition.name as string;
      const drift = this.driftOf(server, tool);
      if (!drift) continue;
      const key = JSON.stringify([server, tool, drift.live]);
      if (this.reportedDrift.has(key)) continue;
      this.reportedDrift.add(key);
      writeStderr(`mcp-policy: drift: ${server}/${drift.reason}${enforced ? '; hidden and denied (pinning)' : '; allowed as the rules say (pinning is off)'}\n`);
      this.options.audit?.drift?.({ ...drift, enforced });
      this.emit('drift', { ...drift, enforced });
    }
  }

  /**
   * Before deciding a call, the upstream's own listing is needed when the call's arguments would
   * be checked against a schema nobody has yet, or when a selector could cover a tool whose
   * class neither the catalog nor a listing gives.
   */
  mustFetchListing(server: string, tool: string): boolean {
    if (!this.upstreamSchemas.mustFetch(server, tool)) return false;
    const policy = this.engine.policy;
    if (policy.plan(server, tool).checkInputSchema || policy.pinning(server) !== undefined) return true;
    return policy.hasSelectors && this.catalog.find(tool, server) === undefined;
  }

  /**
   * The tools of one tools/list page the client sees: without hidden tools, and under
   * callable_only without tools no call could get through. The one place a listing is filtered.
   */
  visibleTools(server: string, tools: readonly unknown[]): unknown[] {
    const policy = this.engine.policy;
    const pinning = policy.pinning(server) !== undefined;
    return tools.filter((tool) => {
      const name = (tool as { name?: unknown } | null)?.name;
      if (typeof name !== 'string') return true;
      return policy.isListed(server, name) && !(pinning && this.driftOf(server, name));
    });
  }

  /** The store's outages and recoveries go to stderr, the `problem` event and the `counters` event. */
  private openStore(spec: CounterStoreSpec): CounterStore {
    const store = openCounterStore(spec);
    store.onHealth((health: StoreHealth) => {
      process.stderr.write(`mcp-policy: counter store ${health.up ? 'back' : 'down'}: ${health.message}\n`);
      this.emit('counters', health);
      if (!health.up) this.reportProblem(`counter store down: ${health.message}`);
    });
    return store;
  }

  get policy(): LoadedPolicy {
    return this.loaded;
  }

  inputSchema(server: string, tool: string): Record<string, unknown> | undefined {
    return this.upstreamSchemas.schema(server, tool) ?? this.catalog.find(tool, server)?.inputSchema;
  }

  recordDecision(event: DecisionEvent): void {
    this.options.audit?.decision(event);
    this.emit('decision', event);
  }

  /** Never throws: a failed outcome line costs the client no answer; the failure is reported instead. */
  recordOutcome(event: DecisionEvent, outcome: UpstreamOutcome): void {
    let written: boolean | undefined;
    try {
      written = this.options.audit?.outcome(event, outcome);
    } catch (error) {
      writeStderr(`mcp-policy: ${escapeControl(`the outcome of ${event.server}/${event.tool} (${event.id}) is not in the audit log: ${(error as Error).message}`)}\n`);
      written = false;
    }
    // The sink has said why on stderr; the views hear of it as a problem.
    if (written === false) this.reportProblem(`the outcome of ${event.server}/${event.tool} (${event.id}) could not be written to the audit log`, event.server);
    this.emit('upstream', outcome);
  }


  reportProblem(message: string, server?: string): void {
    this.emit('problem', server === undefined ? { message } : { server, message });
  }

  /** Reloads when the policy or one of its catalogs changes (./fileWatch says how). */
  watch(): void {
    if (this.watcher) return;
    this.watcher = new FileWatch(
      () => {
        clearTimeout(this.reloadTimer);
        this.reloadTimer = setTimeout(() => this.reload(), RELOAD_DEBOUNCE_MS);
      },
      (error) => this.reportProblem(`cannot watch the policy: ${error.message}`),
    );
    this.watchFilesOf(this.loaded);
  }

  /** The policy, its catalogs, and the default catalog beside it, which may appear later. */
  private watchFilesOf(loaded: LoadedPolicy): void {
    this.watcher?.set([this.policyPath, join(this.policyFolder, CATALOG_FILE_NAME), ...[...(this.options.catalogFiles ?? []), ...loaded.catalogFiles].map((path) => resolve(path))]);
  }

  /** A valid policy takes effect for the next call, counters kept; an invalid one changes nothing. */
  reload(): void {
    const loaded = loadPolicyFile(this.policyPath, this.options.catalogFiles ?? []);
    // The catalogs the policy names now are the ones to watch from now on.
    this.watchFilesOf(loaded);
    if (!loaded.compiled) {
      const errors = policyErrors(loaded);
      writeStderr(`mcp-policy: the changed policy has errors; the last good one stays in force:\n${errors.join('\n')}\n`);
      this.emit('policy', { ok: false, errors, servers: this.loaded.compiled?.serverNames ?? [] });
      return;
    }
    if (loaded.compiled.hash === this.loaded.compiled?.hash) {
      // The same policy; its catalog may have been rewritten (a pin accepted): use the new one.
      this.catalog = loaded.catalog;
      this.engine.policy.riskChanged();
      return;
    }
    this.loaded = loaded;
    this.catalog = loaded.catalog;
    this.useLiveRisk(loaded);
    this.switchStoreIfRenamed(loaded.compiled.counterStore);
    this.engine.setPolicy(loaded.compiled);
    writeStderr(`mcp-policy: policy reloaded (${loaded.compiled.hash.slice(0, 19)})\n`);
    this.emit('policy', { ok: true, errors: [], servers: loaded.compiled.serverNames });
  }

  private switchStoreIfRenamed(policyStore: string): void {
    if (!this.counterSpec) return;
    let spec: CounterStoreSpec;
    try {
      spec = counterStoreSpec(policyStore);
    } catch (error) {
      this.reportProblem(`the counter store stays ${this.engine.counters.description}: ${(error as Error).message}`);
      return;
    }
    if (sameSpec(spec, this.counterSpec)) return;
    const previous = this.engine.counters;
    this.counterSpec = spec;
    this.engine.setCounters(this.openStore(spec));
    void previous.close();
  }

  close(): void {
    clearTimeout(this.reloadTimer);
    this.watcher?.close();
    this.watcher = undefined;
    this.options.audit?.close();
    if (this.counterSpec) void this.engine.counters.close();
  }
}
