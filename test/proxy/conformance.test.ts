/**
 * The official MCP conformance suite's server scenarios, against server-everything direct and
 * through the proxy: whatever passes direct passes through the proxy, and nothing else changes.
 * (The suite's own reference server is not on npm; server-everything passes part of it.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bin, startHttpCli, tempFolder, writePolicy } from './helpers';
import { ensureConformanceSuite, runServerScenarios } from './conformanceSuite';
import { startEverythingHttp } from './httpUpstream';

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
  assert.deepEqual(proxied.results, direct.results, `through proxy --url:\n${proxied.output.slice(-3000)}`);
});

test('conformance server scenarios: the same results direct and through proxy -- CMD', { skip }, async (t) => {
  if (typeof suite === 'string') return;
  const server = await startEverythingHttp(t);
  const direct = await runServerScenarios(suite, server.url, tempFolder(t));
  const policy = writePolicy(tempFolder(t), { version: '1', default: 'allow' });
  const proxy = await startHttpCli(t, ['proxy', policy, '--port', '0', '--', bin('mcp-server-everything')]);
  const proxied = await runServerScenarios(suite, proxy.url, tempFolder(t), proxy.token);
  assert.deepEqual(proxied.results, direct.results, `through proxy -- mcp-server-everything:\n${proxied.output.slice(-3000)}`);
});
