import { parseArgs } from 'node:util';
import { loadPolicyFile, PolicyEngine, type Approver } from '../../core';
import { UsageError, type CommandSpec } from '../cliSupport';

export const explainCommand: CommandSpec = {
  usage: 'explain POLICY --tool T [--server S] [--args JSON] [--approve]',
  summary: 'print the decision event for one call, on fresh counters',
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        tool: { type: 'string' },
        server: { type: 'string' },
        args: { type: 'string' },
        approve: { type: 'boolean', default: false },
        catalog: { type: 'string', multiple: true },
      },
    });
    if (positionals.length !== 1) throw new UsageError('name exactly one policy file');
    if (!values.tool) throw new UsageError('--tool is required');
    let callArguments: unknown = {};
    if (values.args !== undefined) {
      try {
        callArguments = JSON.parse(values.args);
      } catch (error) {
        throw new UsageError(`--args is not JSON: ${(error as Error).message}`);
      }
    }
    const file = positionals[0]!;
    const loaded = loadPolicyFile(file, values.catalog ?? []);
    if (!loaded.compiled) {
      const lines = loaded.document.lines;
      for (const diagnostic of loaded.diagnostics.filter((d) => d.severity === 'error')) {
        const { line, character } = lines.positionAt(diagnostic.range.offset);
        process.stderr.write(`${file}:${line + 1}:${character + 1}: error: ${diagnostic.message} [${diagnostic.code}]\n`);
      }
      return loaded.diagnostics.some((d) => d.code === 'unreadable-file') ? 2 : 1;
    }
    const servers = loaded.compiled.serverNames;
    const server = values.server ?? (servers.length === 1 ? servers[0]! : 'default');
    const catalog = loaded.catalog;
    const engine = new PolicyEngine(loaded.compiled, { inputSchemas: (s, tool) => catalog.find(tool, s)?.inputSchema });
    // explain asks no one: --approve says what happens when the approver says yes.
    const approver: Approver | undefined = values.approve ? async () => ({ approved: true, by: 'explain --approve' }) : undefined;
    const event = await engine.decide({ server, tool: values.tool, arguments: callArguments, client: 'mcp-policy explain' }, approver);
    if (!values.approve && event.decision === 'rejected' && event.reason.includes('no approver')) {
      event.reason = `needs approval: through the proxy the approver would be asked (explain asks no one; add --approve to see the approved path)`;
    }
    process.stdout.write(`${JSON.stringify(event, null, 2)}\n`);
    return 0;
  },
};
