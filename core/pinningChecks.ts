/** Pinning without pins: every tool of the server would be hidden and denied. */
import type { ToolCatalog } from './catalog';
import { DiagnosticCode, type PolicyDiagnostic } from './diagnostic';
import type { JsonDocument } from './document';
import type { JsonPath } from './jsonPath';
import type { Policy } from './model';

export function checkPinning(document: JsonDocument, policy: Policy, catalog: ToolCatalog | undefined, out: PolicyDiagnostic[]): void {
  const places: Array<{ path: JsonPath; server: string | undefined }> = [];
  if (policy.pinning === true) places.push({ path: ['pinning'], server: undefined });
  for (const [server, section] of Object.entries(policy.servers ?? {})) if (section.pinning === true) places.push({ path: ['servers', server, 'pinning'], server });
  for (const { path, server } of places) {
    const missing = server === undefined ? (catalog?.isEmpty ?? true) : !(catalog?.hasServer(server) ?? false);
    if (!missing) continue;
    out.push({
      code: DiagnosticCode.pinningWithoutPins,
      severity: 'warning',
      message: `pinning is on but the catalog has no tools${server !== undefined ? ` of server "${server}"` : ''}: every tool will be hidden and denied until \`mcp-policy catalog\` pins them`,
      range: document.rangeOf(path),
      path,
    });
  }
}
