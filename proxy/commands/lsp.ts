import { existsSync } from 'node:fs';
import { join } from 'node:path';
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
    // Loaded at run time so the CLI does not carry a second copy of the server.
    const server = require(serverEntry()) as LanguageServerModule;
    server.startServer();
    return new Promise<number>(() => undefined);
  },
};
