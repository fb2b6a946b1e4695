import type { CommandSpec } from '../cliSupport';
import { catalogCommand } from './catalog';
import { checkCommand } from './check';
import { explainCommand } from './explain';
import { lspCommand } from './lsp';
import { proxyCommand } from './proxy';
import { replayCommand } from './replay';
import { serveCommand } from './serve';
import { testCommand } from './test';
import { tokenCommand } from './token';

/** Every subcommand of `mcp-policy`, by name. */
export const commands: Record<string, CommandSpec> = {
  catalog: catalogCommand,
  check: checkCommand,
  explain: explainCommand,
  lsp: lspCommand,
  proxy: proxyCommand,
  replay: replayCommand,
  serve: serveCommand,
  test: testCommand,
  token: tokenCommand,
};
