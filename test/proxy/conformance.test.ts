/**
 * The official MCP conformance suite's server scenarios, against server-everything direct and
 * through the proxy: whatever passes direct passes through the proxy, and nothing else changes.
 * (The suite's own reference server is not on npm; server-everything passes part of it.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bin, startHttpCli, tempFolder, writePolicy } from './helpers';
import { ensureConformanceSuite, runServerScenarios, type ScenarioResults } from './conformanceSuite';
import { startEverythingHttp } from './httpUpstream';

/**
 * Scenario → failed checks, and whether any passed. The passed count itself may differ: the proxy
 * answers a POST as JSON when its answer is the only message, and the suite then reports its
 * "SSE streams functional" check as information instead of a pass (SSE is optional there).
 */
function outcomes(results: ScenarioResults): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [scenario, counts] of Object.entries(results)) {
    const [passed, failed] = counts.split('/').map(Number);
    out[scenario] = `${(passed ?? 0) > 0 ? 'some passed' : 'none passed'}, ${failed} failed`;
  }
  return out;
}

const suite = ensureConformanceSuite();
const skip = typeof suite === 'string' ? `the conformance suite cannot be installed: ${suite}` : false;

test('conformance server scenarios: the same results direct and through proxy --url', { skip }, async (t) => {
  if (typeof suite === 'string') return;
  const server = await startEverythingHttp(t);
  const direct = await runServerScenarios(suite, server.url, tempFolder(t));
  const passing = Object.values(direct.results).filter((counts) => counts.endsWith('/0')).length;
  assert.ok(passing >= 10, `too few scenarios pass direct to compare anything:\n${direct.output.slice(-3000)}`);

  const policy = writePolicy(tempFolder(t), { version: '1', default: 'allow' });
  const proxy = await startHttpCli(t, ['proxy', policy, '--port', '0', '--url', server.url]);
  const proxied = await runServerScenarios(suite, proxy.url, tempFolder(t), proxy.token);
  assert.deepEqual(outcomes(proxied.results), outcomes(direct.results), `through proxy --url:\n${proxied.output.slice(-3000)}`);
});

test('conformance server scenarios: the same results direct and through proxy -- CMD', { skip }, async (t) => {
  if (typeof suite === 'string') return;
  const server = await startEverythingHttp(t);
  const direct = await runServerScenarios(suite, server.url, tempFolder(t));
  const policy = writePolicy(tempFolder(t), { version: '1', default: 'allow' });
  const proxy = await startHttpCli(t, ['proxy', policy, '--port', '0', '--', bin('mcp-server-everything')]);
  const proxied = await runServerScenarios(suite, proxy.url, tempFolder(t), proxy.token);
  assert.deepEqual(outcomes(proxied.results), outcomes(direct.results), `through proxy -- mcp-server-everything:\n${proxied.output.slice(-3000)}`);
});
