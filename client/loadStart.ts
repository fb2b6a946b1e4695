/**
 * Imported first by extension.ts, so the bundle evaluates it first: the time the extension's
 * code started running, for the activation time in the log.
 */
export const loadStarted = performance.now();
