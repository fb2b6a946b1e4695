import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser, repoRoot, startCodeServer } from '../test/e2e/codeServer';
import { fixed, summarize, table } from './stats';

const STARTS = 3;

/**
 * The packaged .vsix, and the extension's activation in a real VS Code (code-server), as the
 * extension measures it in-process: loading its bundle plus activate(). Each start is a
 * fresh VS Code with a policy in the workspace.
 */
export async function benchExtension(): Promise<string> {
  const root = repoRoot(__dirname);
  const folder = mkdtempSync(join(tmpdir(), 'mcp-policy-bench-ext-'));
  try {
    const vsix = join(folder, 'mcp-policy.vsix');
    const packaged = spawnSync(process.execPath, [join(root, 'scripts', 'package-vsix.mjs'), '--out', vsix], { cwd: root, encoding: 'utf8' });
    if (packaged.status !== 0) throw new Error(`packaging failed: ${packaged.stderr}`);
    const workspace = join(folder, 'workspace');
    mkdirSync(workspace);
    writeFileSync(join(workspace, 'mcp-policy.json'), '{ "version": "1", "default": "deny", "tools": {} }\n');
    const activations: number[] = [];
    const serverReady: number[] = [];
    for (let start = 0; start < STARTS; start++) {
      const server = await startCodeServer({ vsix, workspace });
      const ui = await launchBrowser();
      try {
        await ui.openWorkbench(server.workbenchUrl);
        const activated = await server.waitForVscodeLog(/MCP Policy activated in ([\d.]+) ms/, 60_000);
        activations.push(Number(activated[1]));
        const ready = await server.waitForVscodeLog(/Language server ready ([\d.]+) ms/, 60_000);
        serverReady.push(Number(ready[1]));
      } finally {
        await ui.close();
        await server.stop();
      }
    }
    const activation = summarize(activations);
    const ready = summarize(serverReady);
    return [
      '### VS Code extension (code-server 4.139.1 = VS Code 1.139.1, headless Chromium)',
      '',
      table(
        ['measure', 'result'],
        [
          ['.vsix size', `${fixed(statSync(vsix).size / 1024, 0)} KiB`],
          [`activation (bundle load + activate()), median of ${STARTS} starts`, `${fixed(activation.p50, 1)} ms (${activations.map((ms) => fixed(ms, 1)).join(', ')})`],
          ['language server ready after activation began, median', `${fixed(ready.p50, 0)} ms`],
        ],
      ),
    ].join('\n');
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
