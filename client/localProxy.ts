import * as vscode from 'vscode';
import type { Approver, DecisionEvent } from '../core';
import type { ProxyHost, ProxyHostEvents, ProxyHostOptions, ProxyHostStatus, UpstreamOutcome } from '../proxy/host';
import { ensureAuditFolder, type AuditSettings } from './auditSettings';
import { readSettings } from './config';
import { errorMessage, log } from './log';
import { locatePolicy } from './policyLocator';
import { startOnWorkspacePort, workspaceCredential, type CredentialRegistry, type SecretStore, type WorkspaceCredential, type WorkspaceMemento } from './proxyIdentity';

/** Async so the proxy's code (MCP SDK, ajv, HTTP server) loads on first start, not at activation. */
export type ProxyHostFactory = (options: ProxyHostOptions) => Promise<ProxyHost>;

export type ProxyState = 'stopped' | 'starting' | 'running' | 'stopping';

/** Where the workspace's port and credential are kept (context.workspaceState, context.secrets). */
export interface ProxyIdentityStores {
  state: WorkspaceMemento;
  secrets: SecretStore;
  registry: CredentialRegistry;
}

/**
 * The local proxy running inside the extension host, as `mcp-policy serve` does: one HTTP
 * listener on 127.0.0.1 guarding every `servers.*.upstream` of the workspace policy.
 * Start and stop are serialised so a double click never leaves two listeners behind.
 */
export class LocalProxy implements vscode.Disposable {
  private host: ProxyHost | undefined;
  private credential: WorkspaceCredential | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private _state: ProxyState = 'stopped';
  private _policy: vscode.Uri | undefined;
  private _problem: string | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly decided = new vscode.EventEmitter<DecisionEvent>();
  private readonly answered = new vscode.EventEmitter<UpstreamOutcome>();
  private readonly drifted = new vscode.EventEmitter<ProxyHostEvents['drift'][0]>();

  /** State, servers or problem changed. */
  readonly onDidChange = this.changed.event;
  readonly onDecision = this.decided.event;
  readonly onUpstream = this.answered.event;
  /** A tool's live definition differs from its catalog pin (or has none). */
  readonly onDrift = this.drifted.event;

  constructor(
    private readonly factory: ProxyHostFactory,
    private readonly approver: Approver,
    private readonly identity: ProxyIdentityStores,
    /** Runs before the upstreams start, e.g. to supply the VS Code inputs they refer to. */
    private readonly beforeStart?: (policy: vscode.Uri) => Promise<void>,
    /** Where decisions are written down (read at each start, so a changed setting applies then). */
    private readonly audit?: () => AuditSettings,
  ) {}

  get state(): ProxyState {
    return this._state;
  }

  get running(): boolean {
    return this._state === 'running';
  }

  /**
   * The host's status, with the token clients of this workspace are given: the workspace's own
   * credential (the host's per-start token stays in its token file for one-off use).
   */
  get status(): ProxyHostStatus | undefined {
    const status = this._state === 'running' ? this.host?.status : undefined;
    return status && this.credential ? { ...status, token: this.credential.token } : status;
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
    let credential: WorkspaceCredential;
    let host: ProxyHost;
    let status: ProxyHostStatus;
    let movedFrom: number | undefined;
    try {
      credential = await workspaceCredential(this.identity.state, this.identity.secrets, this.identity.registry, vscode.workspace.name);
      const choice = await startOnWorkspacePort(this.identity.state, settings.proxyPort, (port) => this.launch(policy, port));
      ({ host, status } = choice.started);
      movedFrom = choice.movedFrom;
    } catch (error) {
      this.setState('stopped');
      this.setProblem(errorMessage(error));
      throw error;
    }
    this.host = host;
    this.credential = credential;
    // A server that cannot start is shown at once; the others serve.
    for (const problem of status.problems) log().error(`Server ${problem.server}: ${problem.message}`);
    const first = status.problems[0];
    this._problem = first ? `${first.server}: ${first.message}${status.problems.length > 1 ? ` (and ${status.problems.length - 1} more)` : ''}` : undefined;
    this.setState('running');
    log().info(`Local proxy listening on http://${status.host}:${status.port}/ for ${policy.fsPath}`);
    for (const server of status.servers) log().info(`Guarded server ${server.name}: ${server.url}`);
    if (status.tokenFile) log().info(`Token file: ${status.tokenFile}`);
    const audit = this.audit?.();
    if (audit) log().info(`Audit log: ${audit.file}`);
    log().info(`Clients of this workspace use the credential "${credential.name}" (mcp-policy token list; ${this.identity.registry.path})`);
    const notices: string[] = [];
    if (movedFrom !== undefined) notices.push(`This workspace's port ${movedFrom} is taken: the local proxy listens on ${status.port} now.`);
    if (credential.origin === 'renewed') notices.push(`The credential "${credential.name}" was revoked or its secret lost: it has a new token now.`);
    if (notices.length > 0) {
      for (const notice of notices) log().warn(notice);
      void this.tellCopyAgain(notices.join(' '));
    }
    return this.status;
  }

  /** One host on one port; a host that fails to start is stopped and forgotten. */
  private async launch(policy: vscode.Uri, port: number): Promise<{ host: ProxyHost; status: ProxyHostStatus; port: number }> {
    const audit = this.audit?.();
    if (audit) ensureAuditFolder(audit);
    const host = await this.factory({
      policyPath: policy.fsPath,
      port,
      approver: this.approver,
      ...(audit ? { auditFile: audit.file, auditRotation: { maxBytes: audit.maxBytes, keep: audit.keep } } : {}),
    });
    host.on('decision', (event) => this.decided.fire(event));
    host.on('upstream', (outcome) => this.answered.fire(outcome));
    host.on('drift', (drift) => this.drifted.fire(drift));
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
    // "down" arrives as a problem too; "back" clears it.
    host.on('counters', ({ up, message }) => {
      if (!up) return;
      log().info(message);
      this.setProblem(undefined);
    });
    try {
      const status = await host.start();
      return { host, status, port: status.port };
    } catch (error) {
      host.removeAllListeners();
      await host.stop().catch(() => undefined);
      throw error;
    }
  }

  private async tellCopyAgain(notice: string): Promise<void> {
    const copy = 'Copy Client Configuration';
    const choice = await vscode.window.showWarningMessage(`${notice} MCP clients set up before need the configuration copied again.`, copy);
    if (choice === copy) await vscode.commands.executeCommand('mcpPolicy.copyClientConfiguration');
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
      this.credential = undefined;
      // A stopped proxy has no upstream or reload problem left to show.
      this._problem = undefined;
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
    this.drifted.dispose();
  }
}
