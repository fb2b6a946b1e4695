import * as vscode from 'vscode';

/**
 * The extension's own log ("MCP Policy" in the Output panel): proxy start/stop, errors,
 * activation time. The language server logs to its own channel.
 */
let channel: vscode.LogOutputChannel | undefined;

export function createLog(): vscode.LogOutputChannel {
  channel ??= vscode.window.createOutputChannel('MCP Policy', { log: true });
  return channel;
}

export function log(): vscode.LogOutputChannel {
  return createLog();
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
