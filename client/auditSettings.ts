/**
 * Where the extension's local proxy writes its audit log (`mcpPolicy.audit.*`). The default is
 * the extension's storage for this workspace: kept across reloads and restarts, one per
 * workspace, and outside the workspace folder, so the log (call arguments included) can never
 * be committed with the project by accident.
 */
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import * as vscode from 'vscode';
import { SECTION } from './config';

export const AUDIT_FILE_NAME = 'audit.jsonl';

export interface AuditSettings {
  file: string;
  maxBytes: number;
  /** Rotated files kept besides the current one. */
  keep: number;
}

export function readAuditSettings(context: Pick<vscode.ExtensionContext, 'storageUri' | 'globalStorageUri'>): AuditSettings {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const config = vscode.workspace.getConfiguration(SECTION, folder);
  const configured = config.get<string>('audit.file', '').trim();
  const storage = (context.storageUri ?? context.globalStorageUri).fsPath;
  const megabytes = config.get<number>('audit.maxFileSizeMB', 10);
  const keep = config.get<number>('audit.keepFiles', 3);
  return {
    file: configured ? resolveAuditPath(configured, folder?.fsPath) : join(storage, AUDIT_FILE_NAME),
    maxBytes: Math.round(clamp(megabytes, 0.01, 10_000, 10) * 1024 * 1024),
    keep: Math.round(clamp(keep, 1, 100, 3)),
  };
}

/** `~/…` is the home folder; a relative path is the workspace folder's. */
function resolveAuditPath(path: string, workspaceFolder: string | undefined): string {
  if (path === '~' || path.startsWith('~/')) return join(homedir(), path.slice(1));
  if (isAbsolute(path)) return path;
  return resolve(workspaceFolder ?? homedir(), path);
}

/** The audit file's folder, created when missing (the extension's storage is not made for us). */
export function ensureAuditFolder(settings: AuditSettings): void {
  mkdirSync(dirname(settings.file), { recursive: true, mode: 0o700 });
}

function clamp(value: unknown, min: number, max: number, fallback: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return fallback;
  return Math.min(max, Math.max(min, value));
}
