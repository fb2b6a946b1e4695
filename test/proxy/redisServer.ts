/**
 * A real Redis for the tests: Debian's redis-server, installed with apt-get when missing,
 * started on a free loopback port with an append-only file (fsync on every write, so a
 * SIGKILL loses no acknowledged admission), stopped by pid.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { Socket } from 'node:net';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { freePort, tempFolder } from './helpers';

export { freePort };

export function ensureRedisInstalled(): string {
  const found = spawnSync('which', ['redis-server'], { encoding: 'utf8' });
  if (found.status === 0) return found.stdout.trim();
  // Under the apt lock the code-server setup takes too, with the package lists fetched first:
  // a new machine may have none yet.
  const lock = join(process.env.TMPDIR ?? '/tmp', 'mcp-policy-apt.lock');
  const install = 'apt-get update -qq && apt-get install -y -qq --no-install-recommends redis-server';
  execFileSync('flock', [lock, 'sh', '-c', install], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return spawnSync('which', ['redis-server'], { encoding: 'utf8' }).stdout.trim();
}


function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.setTimeout(500);
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
  });
}

export class RedisServer {
  private child: ChildProcess | undefined;

  constructor(
    private readonly binary: string,
    readonly port: number,
    private readonly dir: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(this.binary, ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', this.dir, '--daemonize', 'no'], {
      stdio: 'ignore',
    });
    this.child = child;
    for (let attempt = 0; attempt < 100; attempt++) {
      if (await answersPing(this.port)) return;
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error('redis-server did not answer PING');
  }

  /** SIGKILL: no shutdown, no final save. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}

export async function startRedis(t: TestContext): Promise<RedisServer> {
  const server = new RedisServer(ensureRedisInstalled(), await freePort(), tempFolder(t));
  await server.start();
  t.after(() => server.kill());
  return server;
}
