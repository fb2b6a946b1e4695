/**
 * Only client/ may use the VS Code API: core/, server/ and proxy/ run outside VS Code (the CLI,
 * the language server in any editor). Their tsconfig files include this declaration, which
 * makes the 'vscode' module empty for them, so any import of its API fails to compile.
 */
declare module 'vscode' {
  const onlyClientMayImportVscode: never;
  export = onlyClientMayImportVscode;
}
