/**
 * What keeps the local proxy's address and credential the same for a workspace across Stop/Start
 * and window reloads, so a pasted client configuration keeps working. No vscode import: the
 * extension passes its workspaceState, secrets and the user's TokenStore; tests pass their own.
 *
 * The credential is a named token in the user's TokenStore (~/.mcp-policy/tokens.json), so
 * `mcp-policy token list` shows it, `revoke` cuts off every client using it at once, and its
 * name is the grant of every call made with it. Only its secret half lives in SecretStorage.
 */
import { tokenNameProblem, type StoredToken } from '../proxy/tokens';

/** The part of vscode.Memento (context.workspaceState) used here. */
export interface WorkspaceMemento {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): PromiseLike<void>;
}

/** The part of vscode.SecretStorage (context.secrets) used here. */
export interface SecretStore {
  get(key: string): PromiseLike<string | undefined>;
  store(key: string, value: string): PromiseLike<void>;
}

/** The part of proxy/tokens' TokenStore used here. */
export interface CredentialRegistry {
  readonly path: string;
  list(): StoredToken[];
  create(name: string, options: { replace?: boolean }): string;
  grantFor(authorization: string | undefined): string | undefined;
}

export const CREDENTIAL_NAME_KEY = 'mcpPolicy.proxy.credential';
export const PORT_KEY = 'mcpPolicy.proxy.port';
const SECRET_PREFIX = 'mcpPolicy.proxy.credential/';
const BASE_NAME = 'vscode';
/** Room for "vscode-" and a "-NN" suffix inside the 64 characters a token name may have. */
const MAX_WORKSPACE_PART = 50;

export interface WorkspaceCredential {
  /** The token's name in the TokenStore: the grant of every call made with it. */
  name: string;
  token: string;
  /**
   * kept: the one from before; created: the workspace's first; renewed: the one from before was
   * revoked or its secret is gone, so clients set up with it must be given the new one.
   */
  origin: 'kept' | 'created' | 'renewed';
}

/** "vscode-<workspace name>" in the characters a token name may have; "vscode" without a workspace. */
export function credentialBaseName(workspaceName: string | undefined): string {
  const part = (workspaceName ?? '')
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[-._]+/, '')
    .slice(0, MAX_WORKSPACE_PART)
    .replace(/[-._]+$/, '');
  return part.length > 0 ? `${BASE_NAME}-${part}` : BASE_NAME;
}

/** The base name, or base-2, base-3, … when another workspace (or the user) has it already. */
function unusedName(base: string, taken: ReadonlySet<string>): string {
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) if (!taken.has(`${base}-${n}`)) return `${base}-${n}`;
}

/**
 * The workspace's credential: the one kept from before while the TokenStore still accepts it,
 * otherwise a new token under the same name (the name, and so the grant's budgets, stays).
 */
export async function workspaceCredential(
  state: WorkspaceMemento,
  secrets: SecretStore,
  registry: CredentialRegistry,
  workspaceName: string | undefined,
): Promise<WorkspaceCredential> {
  const remembered = state.get<unknown>(CREDENTIAL_NAME_KEY);
  const known = typeof remembered === 'string' && tokenNameProblem(remembered) === undefined ? remembered : undefined;
  const name = known ?? unusedName(credentialBaseName(workspaceName), new Set(registryStep(registry, 'read', () => registry.list()).map((token) => token.name)));
  const secretKey = SECRET_PREFIX + name;
  if (known !== undefined) {
    const token = await secrets.get(secretKey);
    if (token !== undefined && registryStep(registry, 'read', () => registry.grantFor(`Bearer ${token}`)) === name) return { name, token, origin: 'kept' };
  }
  // The name first: should the window close between the steps, the next start replaces this name
  // instead of leaving it behind and taking another.
  await state.update(CREDENTIAL_NAME_KEY, name);
  const token = registryStep(registry, 'saved', () => registry.create(name, { replace: true }));
  await secrets.store(secretKey, token);
  return { name, token, origin: known === undefined ? 'created' : 'renewed' };
}

function registryStep<T>(registry: CredentialRegistry, what: 'read' | 'saved', step: () => T): T {
  try {
    return step();
  } catch (error) {
    const message = (error as Error).message;
    throw new Error(`The credential of this workspace cannot be ${what} (${registry.path}): ${message}`);
  }
}

export interface PortChoice<T> {
  started: T;
  /** The workspace's port, found taken, when the proxy had to listen elsewhere. */
  movedFrom?: number;
}

/**
 * Starts on the port the `mcpPolicy.proxy.port` setting names; when it is 0, on the port this
 * workspace used last, or on a free one (remembered) when there is none or it is taken.
 */
export async function startOnWorkspacePort<T extends { port: number }>(
  state: WorkspaceMemento,
  configuredPort: number,
  start: (port: number) => Promise<T>,
): Promise<PortChoice<T>> {
  // A port the user set is theirs to keep free: a clash is reported, not worked around.
  if (configuredPort > 0) return { started: await start(configuredPort) };
  const remembered = validPort(state.get<unknown>(PORT_KEY));
  let started: T;
  let movedFrom: number | undefined;
  if (remembered === undefined) {
    started = await start(0);
  } else {
    try {
      started = await start(remembered);
    } catch (error) {
      if (!isPortTaken(error)) throw error;
      movedFrom = remembered;
      started = await start(0);
    }
  }
  if (started.port !== remembered) await state.update(PORT_KEY, started.port);
  return movedFrom === undefined ? { started } : { started, movedFrom };
}

function validPort(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 && value <= 65535 ? value : undefined;
}

export function isPortTaken(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
}
