import type { CommandSpec } from '../cliSupport';
import { catalogCommand } from './catalog';
import { checkCommand } from './check';
import { explainCommand } from './explain';
import { initCommand } from './init';
import { lspCommand } from './lsp';
import { proxyCommand } from './proxy';
import { replayCommand } from './replay';
import { serveCommand } from './serve';
import { testCommand } from './test';
import { tokenCommand } from './token';
import { unwrapCommand, wrapCommand } from './wrap';

/** Every subcommand of `mcp-policy`, by name. */
export const commands: Record<string, CommandSpec> = {
  catalog: catalogCommand,
  check: checkCommand,
  explain: explainCommand,
  init: initCommand,
  lsp: lspCommand,
  proxy: proxyCommand,
  replay: replayCommand,
  serve: serveCommand,
  test: testCommand,
  token: tokenCommand,
  unwrap: unwrapCommand,
  wrap: wrapCommand,
};
