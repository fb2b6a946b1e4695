import type { ToolCatalog } from './catalog';
import type { CompiledPolicy } from './compile';
import type { PolicyDiagnostic } from './diagnostic';
import type { JsonDocument } from './document';
import type { Policy, Rule } from './model';
import { semanticChecks } from './semanticChecks';

type Remembered = Omit<PolicyDiagnostic, 'range'> & { part: 'key' | 'value' };

/**
 * Remembers one document's semantic diagnostics across edits that leave the policy's
 * meaning alone: typing in a reason, a comment or white space. The checks are a function of
 * the policy and the catalog only; the text gives nothing but ranges, found again by path.
 * (The checks must not read a rule's `reason`: it is left out of the key.)
 */
export class SemanticCache {
  private key: string | undefined;
  private catalog: ToolCatalog | undefined;
  private remembered: Remembered[] = [];

  check(document: JsonDocument, policy: Policy, catalog: ToolCatalog | undefined, compiled: () => CompiledPolicy): PolicyDiagnostic[] {
    const key = meaningKey(policy);
    if (key !== this.key || catalog !== this.catalog) {
      const diagnostics = semanticChecks(document, policy, catalog, catalog && !catalog.isEmpty ? compiled() : undefined);
      this.key = key;
      this.catalog = catalog;
      this.remembered = diagnostics.map((diagnostic) => {
        const { range, ...rest } = diagnostic;
        const keyRange = diagnostic.path.length > 0 ? document.rangeOf(diagnostic.path, 'key') : undefined;
        const part = keyRange && keyRange.offset === range.offset && keyRange.length === range.length ? 'key' : 'value';
        return { ...rest, part };
      });
      return diagnostics;
    }
    return this.remembered.map(({ part, ...rest }) => ({ ...rest, range: document.rangeOf(rest.path, part) }));
  }
}

function withoutReasons(tools: Record<string, Rule> | undefined): Record<string, Rule> | undefined {
  if (!tools) return undefined;
  const out: Record<string, Rule> = {};
  for (const [name, rule] of Object.entries(tools)) {
    const { reason: _reason, ...meaning } = rule;
    out[name] = meaning;
  }
  return out;
}

function meaningKey(policy: Policy): string {
  const servers: Policy['servers'] = {};
  for (const [name, section] of Object.entries(policy.servers ?? {})) servers[name] = { ...section, tools: withoutReasons(section.tools) ?? {} };
  return JSON.stringify({ ...policy, tools: withoutReasons(policy.tools), servers });
}
