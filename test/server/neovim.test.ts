import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { catalogFromToolsList } from '../../core';
import { cliBuilt, fluentCrmWorkspace, ROOT } from './lspClient';

/**
 * The README's Neovim setup (editors/neovim/mcp-policy.lua) in a real headless Neovim (Debian's is
 * 0.7.2), installed from Debian's packages when it is missing. Under CI a Neovim that cannot be
 * installed fails the test; elsewhere it is skipped with apt's reason.
 */
function neovimMissing(): string | undefined {
  if (spawnSync('nvim', ['--version']).status === 0) return undefined;
  const setup = spawnSync('bash', [join(ROOT, 'scripts', 'setup-debian-package.sh'), 'neovim'], { encoding: 'utf8', timeout: 600_000 });
  if (spawnSync('nvim', ['--version']).status === 0) return undefined;
  return `Neovim is not installed and could not be: ${setup.stderr.trim() || `setup exited with ${setup.status}`}`;
}
const missing = neovimMissing();
if (missing && process.env.CI) throw new Error(missing);
const skip = missing ?? (!cliBuilt() ? 'dist/cli.js is not built' : false);

test('Neovim\'s built-in client: diagnostics, completion for a typed prefix, and a catalog reloaded without didChangeWatchedFiles', { skip, timeout: 60_000 }, () => {
  const workspace = fluentCrmWorkspace();
  const text = '{\n  "version": "1",\n  "tools": {\n    "fluentcrm_resume_campain": {},\n    "fluentcrm_res": {}\n  }\n}\n';
  workspace.writePolicy(text);
  const home = mkdtempSync(join(tmpdir(), 'mcp-policy-nvim-'));
  const out = join(home, 'out.json');
  const command = `lua vim.g.mcp_policy_cmd = { ${JSON.stringify(process.execPath)}, ${JSON.stringify(join(ROOT, 'dist', 'cli.js'))}, 'lsp', '--stdio' }`;
  const newCatalog = JSON.stringify(catalogFromToolsList('fluentcrm', [...workspace.tools, { name: 'fluentcrm_resume_campain', inputSchema: { type: 'object' } }, { name: 'fluentcrm_res', inputSchema: { type: 'object' } }]));
  const result = spawnSync(
    'nvim',
    ['--headless', '--clean', '--cmd', command, '--cmd', `luafile ${join(ROOT, 'editors', 'neovim', 'mcp-policy.lua')}`, join(workspace.folder, 'mcp-policy.json'), '-c', `luafile ${join(ROOT, 'test', 'server', 'neovim.lua')}`],
    {
      encoding: 'utf8',
      timeout: 50_000,
      env: { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, 'config'), XDG_CACHE_HOME: join(home, 'cache'), XDG_STATE_HOME: join(home, 'state'), XDG_DATA_HOME: join(home, 'data'), MCP_POLICY_OUT: out, MCP_POLICY_CATALOG: workspace.catalogPath, MCP_POLICY_NEW_CATALOG: newCatalog },
    },
  );
  assert.equal(result.status, 0, `nvim exited ${String(result.status)}: ${result.stderr}`);
  const seen = JSON.parse(readFileSync(out, 'utf8')) as { error?: string; attached: boolean; first: string; messages: string[]; completion: string[]; reloaded: boolean; after: string };
  assert.equal(seen.error, undefined);
  assert.equal(seen.attached, true);
  // Two misspelled tools, one warning each.
  assert.equal(seen.first, 'unknown-tool,unknown-tool', seen.messages.join('\n'));
  // The omnifunc keeps the items whose word starts with the typed prefix: there are some, and they read right.
  assert.ok(seen.completion.includes('fluentcrm_resume_campaign'), JSON.stringify(seen.completion));
  assert.ok(seen.completion.every((word) => word.startsWith('fluentcrm_res')), JSON.stringify(seen.completion));
  assert.equal(seen.reloaded, true, `still ${seen.after} after the catalog changed`);
});
