/**
 * The bearer token file cannot be redirected: links planted at the file or its folder are not
 * written through, folders others can write are refused (or, for ~/.mcp-policy, made private),
 * and the file is gone after SIGINT, SIGTERM or SIGHUP.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { bin, cli, startHttpCli, tempFolder, writePolicy } from './helpers';

function policy(folder: string): string {
  return writePolicy(folder, { version: '1', default: 'allow' });
}

/** Runs an HTTP proxy that is expected to refuse to start. */
function refusedProxy(home: string, args: string[]): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, [cli, 'proxy', ...args, '--port', '0', '--', bin('mcp-server-everything')], {
    env: { ...process.env, HOME: home },
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: result.status, stderr: result.stderr };
}

const isRoot = process.getuid?.() === 0;

test('a symbolic link planted at --token-file is replaced, not written through; the file is 0600 and no temp file is left', async (t) => {
  const folder = tempFolder(t);
  const victim = join(folder, 'victim.txt');
  writeFileSync(victim, 'precious\n', { mode: 0o644 });
  const tokenFolder = join(folder, 'tokens');
  mkdirSync(tokenFolder, { mode: 0o700 });
  const tokenFile = join(tokenFolder, 'proxy.token');
  symlinkSync(victim, tokenFile);
  const proxy = await startHttpCli(t, ['proxy', policy(folder), '--port', '0', '--token-file', tokenFile, '--', bin('mcp-server-everything')]);
  assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
  assert.equal(statSync(victim).mode & 0o777, 0o644);
  assert.ok(lstatSync(tokenFile).isFile(), 'the link was replaced by a regular file');
  assert.equal(readFileSync(tokenFile, 'utf8').trim(), proxy.token);
  assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
  assert.deepEqual(readdirSync(tokenFolder), ['proxy.token']);
});

test('~/.mcp-policy as a symbolic link is refused with a clear error; nothing is written where it points', (t) => {
  const home = tempFolder(t);
  const elsewhere = join(home, 'elsewhere');
  mkdirSync(elsewhere, { mode: 0o777 });
  chmodSync(elsewhere, 0o777);
  symlinkSync(elsewhere, join(home, '.mcp-policy'));
  const run = refusedProxy(home, [policy(home)]);
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, /refusing to write the token into .*\.mcp-policy: it is a symbolic link/);
  assert.deepEqual(readdirSync(elsewhere), []);
});

test('~/.mcp-policy that others can write is made 0700 before the token goes in', async (t) => {
  const home = tempFolder(t);
  const tokenFolder = join(home, '.mcp-policy');
  mkdirSync(tokenFolder);
  chmodSync(tokenFolder, 0o777);
  const proxy = await startHttpCli(t, ['proxy', policy(home), '--port', '0', '--', bin('mcp-server-everything')], { HOME: home });
  assert.equal(statSync(tokenFolder).mode & 0o777, 0o700);
  const port = new URL(proxy.base).port;
  assert.equal(readFileSync(join(tokenFolder, `proxy-${port}.token`), 'utf8').trim(), proxy.token);
});

test('a --token-file folder that others can write is refused, not changed', (t) => {
  const home = tempFolder(t);
  const shared = join(home, 'shared');
  mkdirSync(shared);
  chmodSync(shared, 0o777);
  const run = refusedProxy(home, [policy(home), '--token-file', join(shared, 'token')]);
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, /others can write in it \(mode 777\)/);
  assert.equal(statSync(shared).mode & 0o777, 0o777);
  assert.deepEqual(readdirSync(shared), []);
});

test('a token folder owned by another user is refused', { skip: isRoot ? false : 'needs root to give a folder to another user' }, (t) => {
  const home = tempFolder(t);
  const tokenFolder = join(home, '.mcp-policy');
  mkdirSync(tokenFolder, { mode: 0o700 });
  chownSync(tokenFolder, 65534, 65534);
  const run = refusedProxy(home, [policy(home)]);
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, /belongs to user 65534, not to you/);
  assert.deepEqual(readdirSync(tokenFolder), []);
});

for (const signal of ['SIGHUP', 'SIGINT', 'SIGTERM'] as const) {
  test(`${signal} removes the token file and the proxy exits 0`, async (t) => {
    const folder = tempFolder(t);
    const tokenFile = join(folder, 'proxy.token');
    const proxy = await startHttpCli(t, ['proxy', policy(folder), '--port', '0', '--token-file', tokenFile, '--', bin('mcp-server-everything')]);
    assert.ok(existsSync(tokenFile));
    const exited = new Promise<number | null>((resolve) => proxy.child.once('exit', (code) => resolve(code)));
    proxy.child.kill(signal);
    assert.equal(await exited, 0);
    assert.equal(existsSync(tokenFile), false);
  });
}

test('the token file is left alone when another proxy has since written its own token there', async (t) => {
  const folder = tempFolder(t);
  const tokenFile = join(folder, 'proxy.token');
  const proxy = await startHttpCli(t, ['proxy', policy(folder), '--port', '0', '--token-file', tokenFile, '--', bin('mcp-server-everything')]);
  writeFileSync(tokenFile, 'someone-else\n');
  const exited = new Promise<number | null>((resolve) => proxy.child.once('exit', (code) => resolve(code)));
  proxy.child.kill('SIGTERM');
  assert.equal(await exited, 0);
  assert.equal(readFileSync(tokenFile, 'utf8'), 'someone-else\n');
});
