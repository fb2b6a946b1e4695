import { loadStarted } from './loadStart';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { createApprover } from './approvals';
import { CatalogView } from './catalogView';
import { CatalogDrifts } from './catalogDrift';
import { registerCatalogCommands } from './catalogRegistration';
import { driftRow } from './driftRows';
import { registerCommands } from './commands';
import { readSettings, SECTION } from './config';
import { DecisionStore } from './decisionStore';
import { DecisionsView } from './decisionsView';
import { readAuditSettings } from './auditSettings';
import { loadDecisionHistory } from './decisionHistory';
import { LocalProxy, type ProxyHostFactory } from './localProxy';
import { createLog, errorMessage } from './log';
import { registerMcpProvider } from './mcpProvider';
import { adoptPolicyDocuments, releaseJsonFormatter } from './policyLanguage';
import { locatePolicy } from './policyLocator';
import { StatusBar } from './statusBar';
import { TokenStore } from '../proxy/tokens';
import { GuardState } from './guardState';
import { registerStarterSnippet } from './starterSnippet';
import { supplyPolicyInputs } from './inputValues';
import { installLauncher } from '../proxy/launcher';
import { PendingApprovals } from './pendingApprovals';
import { isPendingNode, PendingSection } from './pendingItems';
import { PendingStatus } from './pendingStatus';
import { registerPendingCommands } from './pendingCommands';
import { registerPolicyTests } from './policyTestController';
import { registerReplay } from './replayView';

// Loaded on first start: most users open the views long before they start the proxy.
const createProxyHost: ProxyHostFactory = async (options) => (await import('../proxy/serveHost.js')).createProxyHost(options);

// Module evaluation ends here (imports included); activate() is called later, when the
// extension host gets to it.
const loaded = performance.now();

let proxy: LocalProxy | undefined;
let languageClient: LanguageClient | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const started = performance.now();
  const log = createLog();
  const store = new DecisionStore(readSettings().decisionsMax);
  const pendingApprovals = new PendingApprovals();
  const pendingSection = new PendingSection(pendingApprovals);
  // The workspace's port and credential outlive Stop/Start and reloads: see proxyIdentity.ts.
  proxy = new LocalProxy(
    createProxyHost,
    createApprover(pendingApprovals),
    { state: context.workspaceState, secrets: context.secrets, registry: new TokenStore() },
    async (policy) => void (await supplyPolicyInputs(context.secrets, policy)),
    () => readAuditSettings(context),
  );
  const localProxy = proxy;
  const decisions = new DecisionsView(store, pendingSection);
  void loadDecisionHistory(context, store);
  const drifts = new CatalogDrifts();
  const catalog = new CatalogView(locatePolicy, drifts);
  const guard = new GuardState(locatePolicy, () => localProxy.running);

  context.subscriptions.push(
    log,
    store,
    localProxy,
    decisions,
    catalog,
    new StatusBar(localProxy, store),
    registerMcpProvider(localProxy),
    localProxy.onDecision((event) => store.add(event)),
    localProxy.onUpstream((outcome) => store.addUpstream(outcome)),
    drifts,
    localProxy.onDrift((drift) => {
      drifts.add(drift);
      store.add(driftRow(drift));
    }),
    ...registerCatalogCommands({ catalog, languageClient: () => languageClient }),
    guard,
    registerStarterSnippet(),
    registerPolicyTests(),
    registerReplay(store, async () => localProxy.policy ?? (await locatePolicy())),
    localProxy.onDidChange(() => guard.schedule()),
    ...registerCommands({ context, proxy: localProxy, store, decisions, catalog, guard, languageClient: () => languageClient }),
    // Disposing rejects what is still pending: no call is left waiting on a closed window.
    pendingApprovals,
    pendingSection,
    new PendingStatus(pendingApprovals),
    ...registerPendingCommands({
      pending: pendingApprovals,
      policy: async () => {
        const uri = localProxy.policy ?? (await locatePolicy());
        if (!uri) throw new Error('No policy file in this workspace. Create .vscode/mcp-policy.json or set "mcpPolicy.policyFile".');
        return uri;
      },
      revealPending: () => decisions.reveal(() => pendingSection.groupNode(), { expand: 2, focus: true, select: true }),
      selected: () => {
        const node = decisions.view.selection[0];
        return node && isPendingNode(node) ? node : undefined;
      },
    }),
    vscode.workspace.onDidChangeConfiguration((change) => {
      if (change.affectsConfiguration(`${SECTION}.decisions.max`)) store.setMax(readSettings().decisionsMax);
      if (change.affectsConfiguration(`${SECTION}.policyFile`)) catalog.scheduleReload();
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => autoStart(localProxy)),
    { dispose: () => void languageClient?.stop() },
  );

  // The language server runs in untrusted workspaces too: it only reads the policy and its
  // catalogs. Its client library is loaded after activate() returns so the views appear first.
  adoptPolicyDocuments(context);
  void releaseJsonFormatter(context.extension.id);
  void startLanguageClient(context, started);
  refreshLauncher(context);
  autoStart(localProxy);
  const now = performance.now();
  const own = loaded - loadStarted + (now - started);
  log.info(
    `MCP Policy activated in ${own.toFixed(1)} ms (${(loaded - loadStarted).toFixed(1)} ms loading the bundle, ${(now - started).toFixed(1)} ms in activate(); ` +
      `the extension host called activate() ${(started - loaded).toFixed(1)} ms after loading it)`,
  );
}

/** Points the launcher that wrapped client configurations run at this install (see proxy/launcher.ts). */
function refreshLauncher(context: vscode.ExtensionContext): void {
  try {
    const version = (context.extension.packageJSON as { version?: string }).version ?? '0.0.0';
    installLauncher({ cli: context.asAbsolutePath('dist/cli.js'), node: process.execPath, version });
  } catch (error) {
    createLog().warn(`The mcp-policy launcher was not refreshed: ${errorMessage(error)}`);
  }
}

async function startLanguageClient(context: vscode.ExtensionContext, started: number): Promise<void> {
  const log = createLog();
  try {
    const { createLanguageClient } = await import('./languageClient.js');
    const client = createLanguageClient(context);
    languageClient = client;
    await client.start();
    log.info(`Language server ready ${(performance.now() - started).toFixed(1)} ms after activation began`);
  } catch (error) {
    log.error(`The language server did not start: ${errorMessage(error)}`);
  }
}

function autoStart(localProxy: LocalProxy): void {
  if (!vscode.workspace.isTrusted || !readSettings().proxyAutoStart) return;
  localProxy.start().catch((error: unknown) => createLog().error(`Local proxy did not start: ${errorMessage(error)}`));
}

export async function deactivate(): Promise<void> {
  // Stop the upstream processes and the listener before the extension host goes away.
  await Promise.allSettled([proxy?.stop(), languageClient?.stop()]);
  proxy = undefined;
  languageClient = undefined;
}
