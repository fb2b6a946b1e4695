import * as path from 'node:path';
import type { ToolCatalog } from './catalog';
import type { Policy, Rule, ServerSection } from './model';
import { setOwn } from './ownRecord';

/**
 * The starting recipe, shared by Create Policy from Catalog, Guard These Servers and
 * `mcp-policy init`: default deny, read tools allowed, write tools limited and checked against
 * their input schema, execute and destructive tools on approval, and callable_only so the agent
 * is shown only the tools it may call (a denied tool in the list costs it context and calls).
 * Upstreams are copied from `current`; a server of `current` that the catalog does not know (its
 * upstream did not answer) keeps its upstream and gets no rules, so the default denies its tools
 * until it is catalogued. Guard These Servers takes only the rules, so an existing policy keeps
 * its own callable_only.
 */
export function startingPolicy(catalog: ToolCatalog, catalogFiles: readonly string[], target: string, current?: Policy): Policy {
  const servers: Record<string, ServerSection> = {};
  // The current policy's order first (the order its author chose), then catalog-only servers.
  const names = Object.keys(current?.servers ?? {});
  for (const name of catalog.serverNames()) if (!names.includes(name)) names.push(name);
  const catalogued = new Set(catalog.serverNames());
  for (const name of names) {
    const tools: Record<string, Rule> = {};
    for (const tool of catalogued.has(name) ? [...catalog.toolsFor(name)].sort((a, b) => a.name.localeCompare(b.name)) : []) {
      switch (tool.risk.class) {
        case 'read':
          tools[tool.name] = {};
          break;
        case 'write':
          tools[tool.name] = { limits: [{ counter: `${name}_writes`, window: 'minute', max: 20 }], validate_input: true };
          break;
        default:
          // The reason is what the person asked to approve reads.
          tools[tool.name] = { action: 'approve', reason: `${tool.risk.class} (${tool.risk.severity}): ${tool.risk.why}`, limits: [{ counter: `${name}_actions`, window: 'minute', max: 5 }], validate_input: true };
      }
    }
    const upstream = current?.servers?.[name]?.upstream;
    setOwn(servers, name, { ...(upstream ? { upstream } : {}), tools });
  }
  const folder = path.dirname(target);
  return {
    version: '1',
    default: 'deny',
    callable_only: true,
    servers,
    catalog: catalogFiles.map((file) => {
      const relative = path.relative(folder, file).split(path.sep).join('/');
      return relative.startsWith('.') ? relative : `./${relative}`;
    }),
    audit: { redact: ['*password*', '*token*', '*secret*'] },
    approval: { timeout: 60 },
  };
}
