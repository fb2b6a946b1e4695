import type { CommandSpec } from '../cliSupport';
import { checkCommand } from './check';
import { explainCommand } from './explain';

/** Every subcommand of `mcp-policy`, by name. */
export const commands: Record<string, CommandSpec> = {
  check: checkCommand,
  explain: explainCommand,
};
