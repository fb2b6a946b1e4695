/** The launcher wrapped entries run: stable path, newest install wins, a vanished install is reported. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { installLauncher, launcherPath } from '../../proxy/launcher';
import { cli, tempFolder } from './helpers';

test('launcher: one path for every version; an older install does not replace a newer one that exists; a removed one does', (t) => {
  const folder = tempFolder(t);
  const env = { MCP_POLICY_HOME: join(folder, 'home') };
  const install = (name: string): string => {
    mkdirSync(join(folder, name), { recursive: true });
    copyFileSync(cli, join(folder, name, 'cli.js'));
    return join(folder, name, 'cli.js');
  };
  const v2 = install('v2');
  const v1 = install('v1');
  const path = installLauncher({ cli: v2, node: process.execPath, version: '0.2.0', env });
  assert.equal(path, launcherPath(env));
  assert.equal(path, join(folder, 'home', 'bin', 'mcp-policy'));
  assert.equal(statSync(path).mode & 0o111, 0o111, 'executable');
  assert.equal(installLauncher({ cli: v1, node: process.execPath, version: '0.1.9', env }), path);
  assert.match(readFileSync(path, 'utf8'), /v2\/cli\.js/, 'the newer install stays');
  const run = spawnSync(path, ['--version'], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  rmSync(join(folder, 'v2'), { recursive: true });
  installLauncher({ cli: v1, node: process.execPath, version: '0.1.9', env });
  assert.match(readFileSync(path, 'utf8'), /v1\/cli\.js/, 'a removed install is replaced');
  // Paths with quotes and spaces survive the shell.
  const odd = install("it's here");
  installLauncher({ cli: odd, node: process.execPath, version: '0.3.0', env });
  assert.equal(spawnSync(path, ['--version'], { encoding: 'utf8' }).status, 0);
});
