/** Shared pieces of the command line: usage errors (exit 2) and argument splitting. */

export class UsageError extends Error {}

export interface SplitArgs {
  /** Arguments before a lone `--`. */
  own: string[];
  /** The command after `--`, if any. */
  command: string[] | undefined;
}

export function splitAtDoubleDash(args: readonly string[]): SplitArgs {
  const index = args.indexOf('--');
  return index < 0 ? { own: [...args], command: undefined } : { own: args.slice(0, index), command: args.slice(index + 1) };
}

export type CommandHandler = (args: string[]) => Promise<number>;

export interface CommandSpec {
  usage: string;
  summary: string;
  run: CommandHandler;
}
