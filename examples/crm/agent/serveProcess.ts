/**
 * Runs `mcp-policy serve` as the user would: a child process of the real CLI, on a free port,
 * with a fixed bearer token and an audit log. Its URL is read from what it prints on stderr.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

export interface ServeOptions {
  cli: string;
  policy: string;
  token: string;
  audit: string;
  /** Where serve writes the token (it would otherwise go under the user's home). */
  tokenFile: string;
  env: NodeJS.ProcessEnv;
  /** Give up when serve has not printed its address by then. */
  startTimeoutMs: number;
}

export interface RunningServe {
  /** http://127.0.0.1:PORT */
  origin: string;
  /** Everything serve printed on stderr so far (shown when something goes wrong). */
  stderr(): string;
  stop(): Promise<void>;
}

/** The first http URL serve prints names its listener. */
const ADDRESS = /https?:\/\/(?:127\.0\.0\.1|localhost|\[::1\]):(\d+)/;

export async function startServe(options: ServeOptions): Promise<RunningServe> {
  const child = spawn(process.execPath, [options.cli, 'serve', options.policy, '--port', '0', '--token', options.token, '--token-file', options.tokenFile, '--audit', options.audit], {
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  const running: RunningServe = { origin: '', stderr: () => output, stop: () => stopChild(child) };
  const origin = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail(`serve printed no address within ${options.startTimeoutMs / 1000} s`), options.startTimeoutMs);
    const look = (chunk: string): void => {
      output += chunk;
      const match = ADDRESS.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${match[1]!}`);
      }
    };
    function fail(message: string): void {
      clearTimeout(timer);
      void stopChild(child);
      reject(new Error(`${message}\n${output}`));
    }
    child.stderr?.on('data', look);
    child.stdout?.on('data', look);
    child.once('error', (error) => fail(`cannot start serve: ${error.message}`));
    child.once('exit', (code, signal) => fail(`serve exited (${signal ?? `code ${code}`}) before listening`));
  });
  return { ...running, origin };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
