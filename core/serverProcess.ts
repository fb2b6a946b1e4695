/**
 * Node flags for the language server's own process, passed by whatever starts it: the VS Code
 * extension (client/languageClient.ts, execArgv) and `mcp-policy lsp --stdio`
 * (proxy/commands/lsp.ts, which starts the server in a process of its own for them).
 *
 * `--min-semi-space-size=16`: the young generation starts at 16 MB instead of growing from 1 MB.
 * Opening a large policy makes tens of MB of objects that live on (the catalog, the parse
 * tree), and each scavenge of a small young generation copies them once more: garbage collection
 * is a third of a cold open. The heap is sized when V8 starts, so this cannot be set at run time
 * (v8.setFlagsFromString changes nothing then).
 */
export const LANGUAGE_SERVER_NODE_FLAGS: readonly string[] = ['--min-semi-space-size=16'];
