import { parseArgs } from 'node:util';
import { UsageError, type CommandSpec } from '../cliSupport';
import { TokenStore } from '../tokens';

export const tokenCommand: CommandSpec = {
  usage: 'token create NAME [--replace] | token list | token revoke NAME',
  summary: 'named client credentials: each token is its own grant (budget), and its name is the client in every decision',
  async run(args) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { replace: { type: 'boolean', default: false } } });
    const [action, name, ...extra] = positionals;
    const store = new TokenStore();
    if (extra.length > 0) throw new UsageError(`unexpected ${extra.join(' ')}`);
    switch (action) {
      case 'create': {
        if (!name) throw new UsageError('token create needs a NAME');
        const token = store.create(name, { replace: values.replace });
        // The token is shown this once: only its hash is kept.
        process.stdout.write(`${token}\n`);
        process.stderr.write(`mcp-policy: token "${name}" created; clients send it as "Authorization: Bearer <token>" (only its hash is kept in ${store.path})\n`);
        return 0;
      }
      case 'list': {
        if (name) throw new UsageError('token list takes no NAME');
        for (const token of store.list()) process.stdout.write(`${token.name}\t${token.created}\n`);
        return 0;
      }
      case 'revoke': {
        if (!name) throw new UsageError('token revoke needs a NAME');
        if (!store.revoke(name)) {
          process.stderr.write(`mcp-policy token: no token named "${name}"\n`);
          return 1;
        }
        process.stderr.write(`mcp-policy: token "${name}" revoked; proxies refuse it from their next request\n`);
        return 0;
      }
      default:
        throw new UsageError(action === undefined ? 'say create, list or revoke' : `unknown action "${action}"`);
    }
  },
};
