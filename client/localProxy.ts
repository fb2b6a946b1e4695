import * as vscode from 'vscode';
import type { Approver, DecisionEvent } from '../core';
import type { ProxyHost, ProxyHostOptions, ProxyHostStatus, UpstreamOutcome } from '../proxy/host';
import { readSettings } from './config';
import { errorMessage, log } from './log';
import { locatePolicy } from './policyLocator';

/** Async so the proxy's code (MCP SDK, ajv, HTTP server) loads on first start, not at activation. */
export type ProxyHostFactory = (options: ProxyHostOptions) => Promise<ProxyHost>;

export type ProxyState = 'stopped' | 'starting' | 'running' | 'stopping';

/**
 * The local proxy running inside the extension host, as `mcp-policy serve` does: one HTTP
 * listener on 127.0.0.1 guarding every `servers.*.upstream` of the workspace policy.
 * Start and stop are serialised so a double click never leaves two listeners behind.
 */
export class LocalProxy implements vscode.Disposable {
  private host: ProxyHost | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private _state: ProxyState = 'stopped';
  private _policy: vscode.Uri | undefined;
  private _problem: string | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly decided = new vscode.EventEmitter<DecisionEvent>();
  private readonly answered = new vscode.EventEmitter<UpstreamOutcome>();

  /** State, servers or problem changed. */
  readonly onDidChange = this.changed.event;
  readonly onDecision = this.decided.event;
  readonly onUpstream = this.answered.event;

  constructor(
    private readonly factory: ProxyHostFactory,
    private readonly approver: Approver,
    /** Runs before the upstreams start, e.g. to supply the VS Code inputs they refer to. */
    private readonly beforeStart?: (policy: vscode.Uri) => Promise<void>,
  ) {}

  get state(): ProxyState {
    return this._state;
  }

  get running(): boolean {
    return this._state === 'running';
  }

  get status(): ProxyHostStatus | undefined {
    return this._state === 'running' ? this.host?.status : undefined;
  }

  /** The policy the proxy enforces (or last enforced). */
  get policy(): vscode.Uri | undefined {
    return this._policy;
  }

  /** Upstream failures and invalid policy reloads, until the next successful start or reload. */
  get problem(): string | undefined {
    return this._problem;
  }

  start(): Promise<ProxyHostStatus | undefined> {
    return this.serialise(() => this.doStart());
  }

  stop(): Promise<void> {
    return this.serialise(() => this.doStop());
  }

  toggle(): Promise<unknown> {
    return this.running ? this.stop() : this.start();
  }

  private serialise<T>(step: () => Promise<T>): Promise<T> {
    const next = this.queue.then(step, step);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async doStart(): Promise<ProxyHostStatus | undefined> {
    if (this.host && this._state === 'running') return this.host.status;
    if (!vscode.workspace.isTrusted) {
      // The policy names commands to run: never start them in a workspace the user has not trusted.
      throw new Error('The local proxy only runs in a trusted workspace: the policy names the commands it starts.');
    }
    const policy = await locatePolicy();
    if (!policy) throw new Error('No policy file found. Create .vscode/mcp-policy.json or set "mcpPolicy.policyFile".');
    this._policy = policy;
    await this.beforeStart?.(policy);
    const settings = readSettings();
    this.setState('starting');
    let host: ProxyHost;
    try {
      host = await this.factory({ policyPath: policy.fsPath, port: settings.proxyPort, approver: this.approver });
    } catch (error) {
      this.setState('stopped');
      throw error;
    }
    host.on('decision', (event) => this.decided.fire(event));
    host.on('upstream', (outcome) => this.answered.fire(outcome));
    host.on('policy', (reload) => {
      if (reload.ok) {
        log().info(`Policy reloaded: ${reload.servers.length} server(s): ${reload.servers.join(', ')}`);
        this.setProblem(undefined);
      } else {
        for (const line of reload.errors) log().error(line);
        this.setProblem(`Policy invalid, the last valid one stays in force: ${reload.errors[0] ?? 'see the log'}`);
      }
      this.changed.fire();
    });
    host.on('problem', ({ server, message }) => {
      log().error(`${server ? `Server ${server}: ` : ''}${message}`);
      this.setProblem(server ? `${server}: ${message}` : message);
    });
    try {
      const status = await host.start();
      this.host = host;
      this._problem = undefined;
      this.setState('running');
      log().info(`Local proxy listening on http://${status.host}:${status.port}/ for ${policy.fsPath}`);
      for (const server of status.servers) log().info(`Guarded server ${server.name}: ${server.url}`);
      if (status.tokenFile) log().info(`Token file: ${status.tokenFile}`);
      return status;
    } catch (error) {
      host.removeAllListeners();
      await host.stop().catch(() => undefined);
      this.setState('stopped');
      this.setProblem(errorMessage(error));
      throw error;
    }
  }

  private async doStop(): Promise<void> {
    const host = this.host;
    if (!host) return;
    this.setState('stopping');
    try {
      await host.stop();
    } finally {
      host.removeAllListeners();
      this.host = undefined;
      this.setState('stopped');
      log().info('Local proxy stopped');
    }
  }

  private setState(state: ProxyState): void {
    this._state = state;
    // Title actions and welcome content switch on this key (Start vs Stop).
    void vscode.commands.executeCommand('setContext', 'mcpPolicy.proxyRunning', state === 'running');
    this.changed.fire();
  }

  private setProblem(problem: string | undefined): void {
    this._problem = problem;
    this.changed.fire();
  }

  dispose(): void {
    void this.stop();
    this.changed.dispose();
    this.decided.dispose();
    this.answered.dispose();
  }
}
