import * as vscode from 'vscode';

/** The extension's settings (`mcpPolicy.*`), read fresh each time so changes apply at once. */
export const SECTION = 'mcpPolicy';

export const DEFAULT_POLICY_FILE = '.vscode/mcp-policy.json';

export interface Settings {
  policyFile: string;
  proxyPort: number;
  proxyAutoStart: boolean;
  approvalTimeoutSeconds: number;
  decisionsMax: number;
}

export function readSettings(scope?: vscode.ConfigurationScope): Settings {
  const config = vscode.workspace.getConfiguration(SECTION, scope);
  return {
    policyFile: config.get<string>('policyFile', DEFAULT_POLICY_FILE).trim() || DEFAULT_POLICY_FILE,
    proxyPort: clampInt(config.get<number>('proxy.port', 0), 0, 65535, 0),
    proxyAutoStart: config.get<boolean>('proxy.autoStart', false),
    approvalTimeoutSeconds: clampInt(config.get<number>('approval.timeoutSeconds', 60), 1, 3600, 60),
    decisionsMax: clampInt(config.get<number>('decisions.max', 1000), 10, 100_000, 1000),
  };
}

function clampInt(value: unknown, min: number, max: number, fallback: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return fallback;
  return Math.min(max, Math.max(min, Math.round(value)));
}

/** File names the product recognises as policies (glob forms for findFiles / selectors). */
export const POLICY_FILE_GLOBS = [
  '**/mcp-policy.json',
  '**/*.mcp-policy.json',
  '**/.mcp-policy.json',
  '**/mcp-policy.jsonc',
  '**/*.mcp-policy.jsonc',
  '**/.mcp-policy.jsonc',
] as const;
