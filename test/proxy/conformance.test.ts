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
 * The proxied results against the direct ones, scenario by scenario: the same failed count, and
 * the same passed count or one fewer. One fewer because the proxy answers a POST as JSON when
 * its answer is the only message, and the suite then reports its "SSE streams functional" check
 * as information instead of a pass (SSE is optional there); any other lost pass still shows.
 */
function assertSameOutcomes(proxied: ScenarioResults, direct: ScenarioResults, message: string): void {
  assert.deepEqual(Object.keys(proxied).sort(), Object.keys(direct).sort(), message);
  for (const [scenario, counts] of Object.entries(direct)) {
    const [passed = 0, failed = 0] = counts.split('/').map(Number);
    const [proxiedPassed = 0, proxiedFailed = 0] = (proxied[scenario] ?? '').split('/').map(Number);
    assert.equal(proxiedFailed, failed, `${scenario}: failed checks\n${message}`);
    assert.ok(proxiedPassed === passed || proxiedPassed === passed - 1, `${scenario}: ${proxiedPassed} passed through the proxy, ${passed} direct\n${message}`);
  }
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
  assertSameOutcomes(proxied.results, direct.results, `through proxy --url:\n${proxied.output.slice(-3000)}`);
});

test('conformance server scenarios: the same results direct and through proxy -- CMD', { skip }, async (t) => {
  if (typeof suite === 'string') return;
  const server = await startEverythingHttp(t);
  const direct = await runServerScenarios(suite, server.url, tempFolder(t));
  const policy = writePolicy(tempFolder(t), { version: '1', default: 'allow' });
  const proxy = await startHttpCli(t, ['proxy', policy, '--port', '0', '--', bin('mcp-server-everything')]);
  const proxied = await runServerScenarios(suite, proxy.url, tempFolder(t), proxy.token);
  assertSameOutcomes(proxied.results, direct.results, `through proxy -- mcp-server-everything:\n${proxied.output.slice(-3000)}`);
});
