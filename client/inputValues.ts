import * as fs from 'node:fs';
import { parse } from 'jsonc-parser';
import * as vscode from 'vscode';
import { JsonDocument } from '../core/document';
import type { Policy } from '../core/model';
import { backupPath } from '../proxy/clientConfigs/wrapConfig';
import { inputIds, inputVariable, supplyInputs } from '../proxy/upstreamReferences';
import { workspaceMcpConfig } from './guardState';
import { setOwn } from '../core/ownRecord';

const SECRET_PREFIX = 'mcpPolicy.input.';

/** The prompts of `.vscode/mcp.json`'s `inputs` (or of its backup, once the servers moved out). */
function inputPrompts(): Map<string, { description?: string; password?: boolean }> {
  const prompts = new Map<string, { description?: string; password?: boolean }>();
  const config = workspaceMcpConfig();
  if (!config) return prompts;
  const texts: string[] = [];
  if (fs.existsSync(config)) texts.push(fs.readFileSync(config, 'utf8'));
  try {
    const backup = JSON.parse(fs.readFileSync(backupPath(config), 'utf8')) as { original?: string | null };
    if (typeof backup.original === 'string') texts.push(backup.original);
  } catch {
    // no backup
  }
  for (const text of texts) {
    const inputs = (parse(text) as { inputs?: unknown } | undefined)?.inputs;
    if (!Array.isArray(inputs)) continue;
    for (const input of inputs as Array<{ id?: unknown; description?: unknown; password?: unknown }>) {
      if (typeof input.id === 'string' && !prompts.has(input.id)) {
        prompts.set(input.id, { ...(typeof input.description === 'string' ? { description: input.description } : {}), password: input.password === true });
      }
    }
  }
  return prompts;
}

/**
 * Values for the `${input:ID}` references of some upstreams, as VS Code itself would get them:
 * from the extension's secret storage, or asked once (the input's own description) and kept
 * there. Undefined when the user cancels a prompt.
 */
export async function inputValues(secrets: vscode.SecretStorage, upstreams: unknown[]): Promise<Record<string, string> | undefined> {
  const ids = inputIds(upstreams);
  if (ids.length === 0) return {};
  const prompts = inputPrompts();
  const values: Record<string, string> = {};
  for (const id of ids) {
    let value = await secrets.get(SECRET_PREFIX + id);
    if (value === undefined) {
      const prompt = prompts.get(id);
      value = await vscode.window.showInputBox({
        title: `MCP Policy: value of \${input:${id}}`,
        prompt: prompt?.description ?? `The value VS Code asks for as \${input:${id}}`,
        password: prompt?.password ?? true,
        ignoreFocusOut: true,
      });
      if (value === undefined) return undefined;
      await secrets.store(SECRET_PREFIX + id, value);
    }
    setOwn(values, id, value);
  }
  supplyInputs(values);
  return values;
}

/** The same values as environment variables, for a CLI child (init's catalog run). */
export function inputEnvironment(values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([id, value]) => [inputVariable(id), value]));
}

/** Supplies the inputs the policy's upstreams need before the local proxy starts them. */
export async function supplyPolicyInputs(secrets: vscode.SecretStorage, policy: vscode.Uri): Promise<Record<string, string>> {
  let parsed: Policy | undefined;
  try {
    parsed = new JsonDocument(fs.readFileSync(policy.fsPath, 'utf8')).value as Policy | undefined;
  } catch {
    return {};
  }
  const upstreams = Object.values(parsed?.servers ?? {}).map((section) => section.upstream);
  return (await inputValues(secrets, upstreams)) ?? {};
}
