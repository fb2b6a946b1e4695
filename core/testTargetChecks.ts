/**
 * A policy test that calls a tool the catalog does not have, or a server the policy does not
 * name, tests nothing the proxy will meet: it is usually a typo that the default then decides.
 * Tests are not part of the sanitized policy, so this reads them from the document.
 */
import type { ToolCatalog } from './catalog';
import { DiagnosticCode, type PolicyDiagnostic } from './diagnostic';
import type { JsonDocument } from './document';
import type { JsonPath } from './jsonPath';
import type { Policy } from './model';
import { isObject } from './sanitize';
import { suggest } from './suggest';

interface TestCall {
  /** Where the call is written: the test, or one of its steps. */
  path: JsonPath;
  tool: string;
  server: string | undefined;
  /** Where `server` is written, when it is written (on the step or on its test). */
  serverPath: JsonPath | undefined;
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function testCalls(value: unknown): TestCall[] {
  if (!isObject(value) || !Array.isArray(value.tests)) return [];
  const calls: TestCall[] = [];
  value.tests.forEach((test: unknown, index: number) => {
    if (!isObject(test)) return;
    const path: JsonPath = ['tests', index];
    const testServer = nonEmptyString(test.server);
    const read = (raw: Record<string, unknown>, at: JsonPath): void => {
      const tool = nonEmptyString(raw.tool);
      if (tool === undefined) return;
      const own = nonEmptyString(raw.server);
      calls.push({ path: at, tool, server: own ?? testServer, serverPath: own !== undefined ? [...at, 'server'] : testServer !== undefined ? [...path, 'server'] : undefined });
    };
    if (Array.isArray(test.steps)) test.steps.forEach((step: unknown, stepIndex: number) => isObject(step) && read(step, [...path, 'steps', stepIndex]));
    else read(test, path);
  });
  return calls;
}

/** The server a call without one goes to: the policy's only server, as `mcp-policy test` does. */
function defaultServer(policy: Policy): string | undefined {
  const servers = Object.keys(policy.servers ?? {});
  return servers.length === 1 ? servers[0] : undefined;
}

export function checkTestTargets(document: JsonDocument, policy: Policy | undefined, catalog: ToolCatalog | undefined): PolicyDiagnostic[] {
  if (!policy) return [];
  const out: PolicyDiagnostic[] = [];
  const policyServers = Object.keys(policy.servers ?? {});
  const knownServers = [...new Set([...policyServers, ...(catalog?.serverNames() ?? [])])];
  const reportedServers = new Set<string>();
  for (const call of testCalls(document.value)) {
    const server = call.server ?? defaultServer(policy);
    if (call.server !== undefined && call.serverPath && knownServers.length > 0 && !knownServers.includes(call.server)) {
      const key = JSON.stringify(call.serverPath);
      if (!reportedServers.has(key)) {
        reportedServers.add(key);
        const guess = suggest(call.server, knownServers);
        out.push({
          code: DiagnosticCode.unknownServer,
          severity: 'warning',
          message: `the test calls server "${call.server}", which neither the policy nor the tool catalog has${guess ? `; did you mean "${guess}"?` : ''} (servers: ${knownServers.join(', ')})`,
          range: document.rangeOf(call.serverPath),
          path: call.serverPath,
          data: guess ? { suggestion: guess } : {},
        });
      }
    }
    if (!catalog || catalog.isEmpty) continue;
    const scope = server !== undefined && catalog.hasServer(server) ? server : undefined;
    if (catalog.find(call.tool, scope)) continue;
    const guess = suggest(call.tool, catalog.toolNamesFor(scope));
    const where = scope !== undefined ? `server "${scope}"` : 'the tool catalog';
    const toolPath = [...call.path, 'tool'];
    out.push({
      code: DiagnosticCode.unknownTool,
      severity: 'warning',
      message: `the test calls unknown tool "${call.tool}" (not in ${where})${guess ? `; did you mean "${guess}"?` : ''}: the proxy will never see this call`,
      range: document.rangeOf(toolPath),
      path: toolPath,
      data: guess ? { suggestion: guess } : {},
    });
  }
  return out;
}
