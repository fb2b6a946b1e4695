import { commands } from './commands';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from './cliSupport';
import { guardStderr, writeStderr } from './stderrLine';

/** dist/cli.js and out/proxy/cli.js sit at different depths below package.json. */
function packageVersion(): string {
  for (const candidate of [join(__dirname, '..', 'package.json'), join(__dirname, '..', '..', 'package.json')]) {
    try {
      const parsed = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (parsed.name === 'mcp-policy') return parsed.version ?? 'unknown';
    } catch {
      // try the next candidate
    }
  }
  return 'unknown';
}

function usage(): string {
  const lines = Object.entries(commands).map(([, spec]) => `  mcp-policy ${spec.usage}\n      ${spec.summary}`);
  return `usage:\n${lines.join('\n')}\n`;
}

async function main(argv: string[]): Promise<number> {
  guardStderr();
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const command = commands[name];
  if (!command) {
    writeStderr(`mcp-policy: unknown command "${name}"\n${usage()}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError || (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      writeStderr(`mcp-policy ${name}: ${(error as Error).message}\nusage: mcp-policy ${command.usage}\n`);
      return 2;
    }
    writeStderr(`mcp-policy ${name}: ${(error as Error).message}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    // Commands that serve (proxy, lsp) resolve only when they are done serving.
    process.exitCode = code;
  },
  (error: unknown) => {
    writeStderr(`mcp-policy: ${(error as Error).message}\n`);
    process.exitCode = 1;
  },
);
