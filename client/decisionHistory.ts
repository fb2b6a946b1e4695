/** The Decisions view's memory across window reloads: the audit log read back, minus what was cleared. */
import type * as vscode from 'vscode';
import { readAuditHistory } from './auditHistory';
import { readAuditSettings } from './auditSettings';
import { readSettings } from './config';
import type { DecisionStore } from './decisionStore';
import { errorMessage, log } from './log';

/** When the user last cleared the view (epoch ms): older history stays cleared after a reload. */
const CLEARED_AT_KEY = 'mcpPolicy.decisions.clearedAt';

export async function loadDecisionHistory(context: vscode.ExtensionContext, store: DecisionStore): Promise<void> {
  const audit = readAuditSettings(context);
  try {
    const clearedAt = context.workspaceState.get<number>(CLEARED_AT_KEY);
    const history = await readAuditHistory(audit.file, { max: readSettings().decisionsMax, rotated: audit.keep, ...(clearedAt !== undefined ? { clearedAt } : {}) });
    store.addHistory(history.events);
    if (history.files.length > 0) log().info(`Decisions: ${history.events.length} recent decision(s) read back from ${history.files.join(', ')}`);
    if (history.skipped > 0) log().warn(`Decisions: ${history.skipped} line(s) of ${audit.file} are not decisions and were left out`);
  } catch (error) {
    log().error(`Decisions: the audit log ${audit.file} could not be read back: ${errorMessage(error)}`);
  }
}

/** Clear Decisions: empties the view now and keeps the cleared history out of later reloads. */
export async function clearDecisions(context: vscode.ExtensionContext, store: DecisionStore): Promise<void> {
  store.clear();
  await context.workspaceState.update(CLEARED_AT_KEY, Date.now());
}
