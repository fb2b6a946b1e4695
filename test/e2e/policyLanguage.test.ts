// End-to-end: policy files have a language of their own in a real VS Code (code-server), so each
// mistake is one Problem, each completion shows once, Format Document needs no choice of
// formatter, and other JSON files keep VS Code's own JSON formatter afterwards.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { catalogFromToolsList, type CatalogTool } from '../../core';
import { repoRoot, type Workbench } from './codeServer';
import { EXTENSION_ID, expectText, usePackagedExtension } from './extensionFixture';
import { openWorkbenchSession } from './workbenchSession';

const root = repoRoot();

const extension = usePackagedExtension('mcp-policy-e2e-language-');

/** Two mistakes: a misspelled tool (line 5) and a misspelled property (line 5). Not indented, so formatting changes it. */
const POLICY = ['{', '"version": "1",', '"default": "deny",', '"tools": {', '"fluentcrm_resume_campain": { "acton": "deny" },', '"fluentcrm_list_*": {}', '}', '}', ''].join('\n');
const MCP_JSON = '{"servers":{},"inputs":[]}\n';
const TSCONFIG = '{"compilerOptions":{"strict":true}}\n';

async function waitForDisk(path: string, check: (text: string) => boolean, page: Page, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = readFileSync(path, 'utf8');
    if (check(text)) return text;
    if (Date.now() > deadline) throw new Error(`${path} never became what was expected; it is:\n${text}`);
    await page.waitForTimeout(100);
  }
}

async function quickOpen(page: Page, search: string, name: string): Promise<void> {
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input.input');
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  await input.fill(search);
  // The list shows recent files until the search answers: click the row of this very file.
  const row = page.locator('.quick-input-widget .monaco-list-row').filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${name.replace(/\./g, '\\.')}$`) }) }).first();
  await row.waitFor({ timeout: 10_000 });
  await row.click();
  await page.locator('.tabs-container .tab.active', { hasText: name }).waitFor({ timeout: 15_000 });
}

/** Format Document from the palette, then save: a formatter prompt would leave the file as it was. */
async function formatAndSave(ui: Workbench): Promise<void> {
  await ui.runCommand('Format Document');
  await ui.page.locator('.monaco-editor .view-lines').first().click();
  await ui.page.keyboard.press('Control+S');
}

/**
 * A JSON file formatted by VS Code's JSON language server. That server answers its first
 * requests for a file only once it has tried to load the file's schema (schemastore.org,
 * unreachable here), so the format is repeated until it lands; the attempts are reported.
 */
async function formatJsonFile(ui: Workbench, path: string, check: (text: string) => boolean): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    await formatAndSave(ui);
    try {
      await waitForDisk(path, check, ui.page, 5000);
      return attempt;
    } catch (error) {
      if (attempt >= 4) {
        await ui.screenshot(`language-4-not-formatted-${path.split('/').pop() ?? ''}`);
        throw error;
      }
    }
  }
}

test('policy files have their own language: one Problem per mistake, one completion each, Format Document without a prompt', { timeout: 300_000 }, async (t) => {
  if (extension.skipReason) {
    t.skip(extension.skipReason);
    return;
  }
  const workspace = join(extension.temp, 'workspace');
  mkdirSync(join(workspace, '.vscode'), { recursive: true });
  const policyFile = join(workspace, 'mcp-policy.json');
  const mcpJson = join(workspace, '.vscode', 'mcp.json');
  const tsconfig = join(workspace, 'tsconfig.json');
  writeFileSync(policyFile, POLICY);
  writeFileSync(mcpJson, MCP_JSON);
  writeFileSync(tsconfig, TSCONFIG);
  const recorded = JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'fluentcrm.tools-list.json'), 'utf8')) as { result: { tools: Array<Omit<CatalogTool, 'risk'>> } };
  writeFileSync(join(workspace, 'mcp-policy.catalog.json'), JSON.stringify(catalogFromToolsList('fluentcrm', recorded.result.tools), null, 2));

  const session = await openWorkbenchSession(t, {
    vsix: extension.vsix,
    workspace,
    settings: {
      'files.autoSave': 'off',
      'editor.quickSuggestions': { other: false, comments: false, strings: false },
      'editor.formatOnSave': false,
      // What an earlier version left behind when the user picked it in the formatter prompt.
      '[jsonc]': { 'editor.defaultFormatter': EXTENSION_ID },
    },
    shotPrefix: 'policy-language',
  });
  const { server, ui, page } = session;
  await server.waitForVscodeLog(/Language server ready [^\n]*/, 30_000);

  await t.test('each mistake is one Problem', async () => {
    await quickOpen(page, 'mcp-policy.json', 'mcp-policy.json');
    await expectText(page.locator('.part.statusbar .statusbar-item').filter({ hasText: /^MCP Policy$/ }).first(), /^MCP Policy$/, 15_000);
    await page.keyboard.press('Control+Shift+M');
    const rows = page.locator('.markers-panel .monaco-list-row').filter({ hasText: /\[Ln \d+, Col \d+\]/ });
    await rows.filter({ hasText: 'unknown tool "fluentcrm_resume_campain"' }).first().waitFor({ timeout: 30_000 });
    await rows.filter({ hasText: 'unknown property "acton"' }).first().waitFor({ timeout: 30_000 });
    // Give a second provider (VS Code's JSON validation) time to add its own copies.
    await page.waitForTimeout(3000);
    const texts = await rows.allInnerTexts();
    await ui.screenshot('language-1-problems');
    assert.equal(texts.length, 2, `expected exactly two Problems, saw:\n${texts.join('\n')}`);
  });

  await t.test('Format Document formats the policy without asking which formatter', async () => {
    await page.locator('.monaco-editor .view-lines').first().click();
    await formatAndSave(ui);
    const formatted = await waitForDisk(policyFile, (text) => /\n\s+"version": "1"/.test(text), page);
    assert.match(formatted, /\n\s+"tools": \{\n\s+"fluentcrm_resume_campain"/);
    assert.equal(await page.locator('.notifications-toasts').filter({ hasText: /formatter/i }).count(), 0);
    await ui.screenshot('language-2-formatted');
  });

  await t.test('key completion shows each key once', async () => {
    await page.locator('.monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+G');
    const goToLine = page.locator('.quick-input-widget input.input');
    await goToLine.waitFor({ state: 'visible', timeout: 10_000 });
    await goToLine.fill(':8');
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 });
    // Formatted, line 8 is `"fluentcrm_list_*": {}`: inside its braces.
    await page.keyboard.press('End');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.type('"');
    await page.keyboard.press('Control+Space');
    const labels = page.locator('.suggest-widget .monaco-list-row .label-name');
    await labels.filter({ hasText: /^action$/ }).first().waitFor({ timeout: 15_000 }).catch(async (error: unknown) => {
      await ui.screenshot('language-3-completion-missing');
      throw error;
    });
    await page.waitForTimeout(1000);
    const shown = await labels.allInnerTexts();
    await ui.screenshot('language-3-completion');
    for (const key of ['action', 'limits', 'reason']) assert.equal(shown.filter((label) => label === key).length, 1, `${key} in ${JSON.stringify(shown)}`);
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+Z');
  });

  await t.test('afterwards .vscode/mcp.json and tsconfig.json still format with VS Code\'s JSON formatter', async (t) => {
    await quickOpen(page, '.vscode/mcp.json', 'mcp.json');
    const mcpAttempts = await formatJsonFile(ui, mcpJson, (text) => text !== MCP_JSON && /\n\s+"servers": \{\}/.test(text));
    await quickOpen(page, 'tsconfig.json', 'tsconfig.json');
    const tsconfigAttempts = await formatJsonFile(ui, tsconfig, (text) => /\n\s+"compilerOptions": \{\n\s+"strict": true/.test(text));
    t.diagnostic(`Format Document attempts: mcp.json ${mcpAttempts}, tsconfig.json ${tsconfigAttempts}`);
    await ui.screenshot('language-4-other-json');
    assert.equal(await page.locator('.notifications-toasts').filter({ hasText: /formatter/i }).count(), 0);
  });
});
