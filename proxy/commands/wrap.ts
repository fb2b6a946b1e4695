import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { analyzePolicy } from '../../core';
import { UsageError, type CommandSpec } from '../cliSupport';
import { CLIENT_LABELS, clientOfPath } from '../clientConfigs/formats';
import { policyServerFor, readConfigs } from '../clientConfigs/policyImport';
import { backupPath, unwrapFile, wrapFile } from '../clientConfigs/wrapConfig';
import { refreshLauncher } from '../launcher';
import { DEFAULT_POLICY_NAME, writeStartingPolicy } from './init';

export const wrapCommand: CommandSpec = {
  usage: 'wrap CONFIG... [--policy POLICY] [--server NAME]... [--timeout SECONDS]',
  summary: "route a client configuration's MCP servers through the policy's guarded proxy (backup beside it; mcp-policy unwrap restores it)",
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { policy: { type: 'string' }, server: { type: 'string', multiple: true }, timeout: { type: 'string' } },
    });
    if (positionals.length === 0) throw new UsageError('name at least one client configuration file');
    const files = positionals.map((file) => resolve(file));
    for (const file of files) if (!existsSync(file)) throw new UsageError(`${file}: file not found`);
    const policyPath = resolve(values.policy ?? DEFAULT_POLICY_NAME);

    if (!existsSync(policyPath)) {
      // No policy yet: import these files' servers first, as `init --yes --config …` would.
      const chosen = readConfigs(files)
        .flatMap((file) => file.servers)
        .filter((server) => server.upstream && !server.wrapped && (!values.server || values.server.includes(server.name)));
      if (chosen.length === 0) throw new UsageError(`${policyPath} does not exist and the files hold no server to import`);
      const seconds = Number(values.timeout ?? 30);
      if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`--timeout must be a number of seconds, not "${values.timeout}"`);
      const written = await writeStartingPolicy(chosen, policyPath, seconds * 1000);
      process.stdout.write(`wrote ${policyPath} (${written.servers.length} servers, default deny)\n`);
    }
    const { policy } = analyzePolicy(readFileSync(policyPath, 'utf8'));
    if (!policy) throw new Error(`${policyPath}: not a readable policy (run mcp-policy check ${policyPath})`);
    const launcher = refreshLauncher();
    let problems = 0;
    for (const file of files) {
      const result = wrapFile(file, {
        launcher,
        policy: policyPath,
        serverFor: (server) => policyServerFor(policy, policyPath, server),
        ...(values.server ? { only: values.server } : {}),
      });
      const client = clientOfPath(file);
      process.stdout.write(`${client ? CLIENT_LABELS[client] : 'MCP client'}: ${file}\n`);
      for (const entry of result.wrapped) process.stdout.write(`  ${entry.name}: now guarded (servers.${entry.server} of ${policyPath})\n`);
      for (const name of result.already) process.stdout.write(`  ${name}: already guarded\n`);
      for (const skipped of result.skipped) {
        problems++;
        process.stderr.write(`  ${skipped.name}: not wrapped: ${skipped.why}\n`);
      }
      if (result.wrapped.length > 0) process.stdout.write(`  backup: ${backupPath(file)} (mcp-policy unwrap ${file} restores it)\n`);
    }
    return problems > 0 ? 1 : 0;
  },
};

export const unwrapCommand: CommandSpec = {
  usage: 'unwrap CONFIG...',
  summary: 'restore client configurations that mcp-policy wrap changed (byte for byte when the file was not changed since)',
  async run(args) {
    const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
    if (positionals.length === 0) throw new UsageError('name at least one client configuration file');
    for (const file of positionals.map((path) => resolve(path))) {
      if (!existsSync(file)) throw new UsageError(`${file}: file not found`);
      const result = unwrapFile(file);
      if (result.restored === 'nothing') process.stdout.write(`${file}: not wrapped, left as it is\n`);
      else if (result.restored === 'bytes') process.stdout.write(`${file}: restored as it was before wrap\n`);
      else process.stdout.write(`${file}: changed since wrap; restored the entries ${result.entries.join(', ') || '(none still wrapped)'} and kept the other changes\n`);
    }
    return 0;
  },
};
