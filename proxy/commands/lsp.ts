import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LANGUAGE_SERVER_NODE_FLAGS } from '../../core/serverProcess';
import { UsageError, type CommandSpec } from '../cliSupport';

interface LanguageServerModule {
  /** Serves LSP over stdin/stdout until the client says exit. */
  startServer(): void;
}

/** dist/cli.js runs dist/server.js; out/proxy/commands/lsp.js runs out/server/main.js. */
function serverEntry(): string {
  const candidates = [join(__dirname, 'server.js'), join(__dirname, '..', '..', 'server', 'main.js')];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) throw new Error(`the language server is not built (looked for ${candidates.join(', ')}); run npm run build`);
  return found;
}

export const lspCommand: CommandSpec = {
  usage: 'lsp --stdio',
  summary: 'run the language server for any LSP client',
  async run(args) {
    if (!args.includes('--stdio')) throw new UsageError('only --stdio is supported');
    const entry = serverEntry();
    if (LANGUAGE_SERVER_NODE_FLAGS.every((flag) => process.execArgv.includes(flag))) {
      // Loaded at run time so the CLI does not carry a second copy of the server.
      const server = require(entry) as LanguageServerModule;
      server.startServer();
      return new Promise<number>(() => undefined);
    }
    // The server's heap flags (core/serverProcess.ts) only take effect when Node starts: it runs
    // in a process of its own, on this process's stdin and stdout (inherited, nothing relayed).
    // It exits when the editor closes its stdin, as it does when started directly. The arguments
    // go along: the LSP library reads some from the command line (--clientProcessId=N).
    const child = spawn(process.execPath, [...LANGUAGE_SERVER_NODE_FLAGS, entry, ...args], { stdio: 'inherit' });
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
    return new Promise<number>((resolve) => {
      child.on('error', () => resolve(1));
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    });
  },
};
