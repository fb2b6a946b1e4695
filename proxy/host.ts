/**
 * The contract between the local proxy and its embedders (the `serve` command and the VS
 * Code extension). `createProxyHost` in ./serveHost implements it.
 */
import type { EventEmitter } from 'node:events';
import type { Approver, DecisionEvent, ToolDrift } from '../core';

export interface ProxyHostOptions {
  /** The policy file; its `servers.*.upstream` are the guarded servers. Watched for changes. */
  policyPath: string;
  /** 0 (the default) = any free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Bearer token clients must send; random per start when absent. */
  token?: string;
  /** Where the token is written (mode 0600); false = nowhere. Default: ~/.mcp-policy/serve-<port>.token */
  tokenFile?: string | false;
  /** JSON Lines audit log. */
  auditFile?: string;
  /** Rotate auditFile by size (see rotatingAuditLog.ts); without it the file only grows. */
  auditRotation?: { maxBytes: number; keep: number };
  /** Asked for `approve` calls before elicitation: the VS Code extension plugs in here. */
  approver?: Approver;
  /** Extra catalog files for validate_input fallbacks. */
  catalogFiles?: string[];
}

export interface GuardedServer {
  name: string;
  /** http://127.0.0.1:PORT/servers/NAME/mcp */
  url: string;
}

export interface ProxyHostStatus {
  port: number;
  host: string;
  token: string;
  tokenFile: string | undefined;
  servers: GuardedServer[];
  /**
   * Servers of the policy that could not start (their command is missing, say). The others
   * serve; a call to one of these fails and says why. Start refuses only when none can start.
   */
  problems: Array<{ server: string; message: string }>;
}

export interface UpstreamOutcome {
  /** The decision event's id. */
  id: string;
  ok: boolean;
  ms: number;
  error?: string;
}

export interface PolicyReload {
  ok: boolean;
  /** "file:line:col: error: message [code]" lines when not ok. */
  errors: string[];
  servers: string[];
}

export interface ProxyHostEvents {
  /** Every decision, emitted when it is made (before a forwarded call goes upstream). */
  decision: [DecisionEvent];
  /** A forwarded call's upstream answer. */
  upstream: [UpstreamOutcome];
  /** The policy file changed: reloaded, or kept the last good one. */
  policy: [PolicyReload];
  /** An upstream failed to start or died, or the counter store went down; the proxy stays up. */
  problem: [{ server?: string; message: string }];
  /** The counter store went down (calls needing a limit are refused) or is back. */
  counters: [{ up: boolean; message: string }];
  /** A tool's live definition differs from its catalog pin (or has none); enforced when pinning is on. */
  drift: [ToolDrift & { enforced: boolean }];
}

export interface ProxyHost extends EventEmitter<ProxyHostEvents> {
  /** Rejects with a readable message when the policy is invalid or the port is taken. */
  start(): Promise<ProxyHostStatus>;
  /** Closes the listener, every session and every upstream process. */
  stop(): Promise<void>;
  readonly status: ProxyHostStatus | undefined;
}
