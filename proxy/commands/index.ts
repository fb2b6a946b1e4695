import type { CommandSpec } from '../cliSupport';
import { checkCommand } from './check';
import { explainCommand } from './explain';
import { lspCommand } from './lsp';

/** Every subcommand of `mcp-policy`, by name. */
export const commands: Record<string, CommandSpec> = {
  check: checkCommand,
  explain: explainCommand,
  lsp: lspCommand,
};
