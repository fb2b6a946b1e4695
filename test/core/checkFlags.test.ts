import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fixturePath } from './helpers';

const cli = fixturePath('..', '..', 'dist', 'cli.js');
const catalog = fixturePath('spec-example', 'mcp-policy.catalog.json');

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function policyFile(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'mcp-policy-check-')), 'mcp-policy.json');
  writeFileSync(path, text);
  return path;
}

const MISSPELLED = '{ "version": "1", "tools": { "fluentcrm_resme_campaign": {} } }\n';

test('check --max-warnings: more warnings than allowed exit 1, as many exit 0', () => {
  const file = policyFile(MISSPELLED);
  const plain = run('check', '--catalog', catalog, file);
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /warning: unknown tool "fluentcrm_resme_campaign"/);
  const strict = run('check', '--catalog', catalog, '--max-warnings', '0', file);
  assert.equal(strict.code, 1);
  assert.match(strict.stderr, /1 warning, more than --max-warnings 0/);
  assert.equal(run('check', '--catalog', catalog, '--max-warnings', '1', file).code, 0);
  assert.equal(run('check', '--max-warnings', 'many', file).code, 2);
});

test('check: a --catalog file that does not exist is an error naming it, not a warning', () => {
  const file = policyFile(MISSPELLED);
  const result = run('check', '--catalog', '/no/such/tools.catalog.json', file);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--catalog \/no\/such\/tools\.catalog\.json: file not found/);
});

test('check: without any catalog it says that tool names were not checked', () => {
  const file = policyFile(MISSPELLED);
  const result = run('check', file);
  assert.equal(result.code, 0);
  assert.match(result.stderr, /no tool catalog found .*tool names were not checked/);
});

test('check: a duplicate key is an error, so the proxy would not start with it', () => {
  const file = policyFile('{ "version": "1", "default": "deny", "default": "allow" }\n');
  const result = run('check', file);
  assert.equal(result.code, 1);
  assert.match(result.stdout, /:1:19: error: "default" is written more than once .*\[duplicate-key\]/);
});

test('proxy: a policy with a duplicate key does not start, naming the key and its line', () => {
  // JSON.parse would enforce the last copy ("allow") while a reader sees the first ("deny"):
  // the proxy fails closed instead of guessing which one was meant.
  const file = policyFile('{\n  "version": "1",\n  "default": "deny",\n  "default": "allow"\n}\n');
  const result = spawnSync(process.execPath, [cli, 'proxy', file, '--', process.execPath, '-e', 'setInterval(() => {}, 1000)'], { encoding: 'utf8', timeout: 20_000 });
  assert.notEqual(result.status, 0);
  assert.match(result.stderr, /"default" is written more than once .*line 4/);
  assert.match(result.stderr, /no proxy started/);
});
