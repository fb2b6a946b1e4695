/** Hover and completion for risk-class selector keys (`@destructive`, `@execute:high`). */
import { CompletionItemKind, type CompletionItem } from 'vscode-languageserver/node';
import { describeSelector, parseSelector, RISK_CLASSES, toolsCoveredBySelector, type ToolCatalog } from '../core';

const LIST_LIMIT = 30;

export function selectorMarkdown(key: string, catalog: ToolCatalog, server: string | undefined): string {
  const selector = parseSelector(key);
  if ('error' in selector) return `**${key}**: ${selector.error}`;
  const head = `**${key}**: ${describeSelector(selector)} that no name or glob rule matches, including tools the server adds later (their class then comes from the server's own listing).`;
  if (catalog.isEmpty) return `${head}\n\nNo tool catalog is loaded, so the tools it covers are unknown.`;
  const covered = toolsCoveredBySelector(key, catalog, server) ?? [];
  if (covered.length === 0) return `${head}\n\nIt covers no tool of the catalog today.`;
  const lines = [head, '', `Covers ${covered.length} tool${covered.length === 1 ? '' : 's'} of the catalog:`];
  for (const tool of covered.slice(0, LIST_LIMIT)) lines.push(`- \`${tool.name}\` — ${tool.risk.class} (${tool.risk.severity}): ${tool.risk.why}`);
  if (covered.length > LIST_LIMIT) lines.push(`- … and ${covered.length - LIST_LIMIT} more`);
  return lines.join('\n');
}

/** One completion per class, with how many catalog tools it covers. */
export function selectorCompletionItems(catalog: ToolCatalog, server: string | undefined, exclude: ReadonlySet<string>, item: (label: string, detail: string, documentation: string) => CompletionItem): CompletionItem[] {
  return RISK_CLASSES.map((riskClass) => `@${riskClass}`)
    .filter((key) => !exclude.has(key))
    .map((key) => {
      const count = catalog.isEmpty ? undefined : (toolsCoveredBySelector(key, catalog, server) ?? []).length;
      return { ...item(key, count === undefined ? 'risk-class selector' : `risk-class selector — ${count} tool${count === 1 ? '' : 's'}`, selectorMarkdown(key, catalog, server)), kind: CompletionItemKind.Class };
    });
}
