import { readFileSync } from 'node:fs';
import { normalize } from 'node:path';
import { loadCatalog, type CatalogLoadProblem, type ToolCatalog } from './catalog';
import { CompiledPolicy } from './compile';
import { catalogRiskSource } from './riskSelector';
import { DiagnosticCode, hasErrors, type PolicyDiagnostic } from './diagnostic';
import { JsonDocument } from './document';
import type { JsonPath } from './jsonPath';
import type { Policy } from './model';
import { sanitizePolicy, isObject } from './sanitize';
import { validatePolicySchema } from './schemaValidation';
import { SemanticCache } from './semanticCache';
import { inexactNumberChecks } from './inexactNumbers';
import { checkTestTargets } from './testTargetChecks';

export interface PolicyAnalysis {
  document: JsonDocument;
  /** The well-formed parts, even when there are errors. */
  policy: Policy | undefined;
  diagnostics: PolicyDiagnostic[];
  /** Present only when there is no error: what the proxy enforces. */
  compiled: CompiledPolicy | undefined;
}

export interface AnalyzeOptions {
  catalog?: ToolCatalog;
  catalogProblems?: readonly CatalogLoadProblem[];
  /** One per open document in an editor: edits that keep the policy's meaning reuse the semantic checks. */
  semanticCache?: SemanticCache;
}

export function analyzePolicy(text: string, options: AnalyzeOptions = {}): PolicyAnalysis {
  return analyzeDocument(new JsonDocument(text), options);
}

/** For callers that already parsed the text (the language server reads `catalog` first): no second parse. */
export function analyzeDocument(document: JsonDocument, options: AnalyzeOptions = {}): PolicyAnalysis {
  const text = document.text;
  const diagnostics: PolicyDiagnostic[] = [...document.syntaxDiagnostics];
  if (document.root && !isObject(document.value)) {
    diagnostics.push({ code: DiagnosticCode.schema, severity: 'error', message: 'a policy must be a JSON object such as {"version": "1"}', range: document.rangeOf([]), path: [] });
    return { document, policy: undefined, diagnostics, compiled: undefined };
  }
  if (!document.root) return { document, policy: undefined, diagnostics, compiled: undefined };
  diagnostics.push(...validatePolicySchema(document));
  diagnostics.push(...inexactNumberChecks(document));
  const policy = sanitizePolicy(document.value);
  // Compiled at most once, and only when needed: the catalog checks resolve every tool through
  // it, and it is what a clean policy enforces; an editor needs neither on most keystrokes.
  let compiledPolicy: CompiledPolicy | undefined;
  const compile = (policyToCompile: Policy): CompiledPolicy => {
    if (compiledPolicy) return compiledPolicy;
    compiledPolicy = new CompiledPolicy(policyToCompile, text);
    // Risk-class selectors take the class from the catalog (the proxy adds the live tools).
    compiledPolicy.setToolRisk(catalogRiskSource(options.catalog));
    return compiledPolicy;
  };
  if (policy) {
    const cache = options.semanticCache ?? new SemanticCache();
    diagnostics.push(...cache.check(document, policy, options.catalog, () => compile(policy)));
  }
  diagnostics.push(...checkTestTargets(document, policy, options.catalog));
  for (const problem of options.catalogProblems ?? []) diagnostics.push(catalogDiagnostic(document, policy, problem));
  dropEchoes(diagnostics);
  diagnostics.sort((a, b) => a.range.offset - b.range.offset);
  const clean = policy !== undefined && !hasErrors(diagnostics);
  return {
    document,
    policy,
    diagnostics,
    get compiled() {
      return clean ? compile(policy) : undefined;
    },
  };
}

/** On the `catalog` entry that names the file; on the `catalog` key or the policy's first brace for the catalog found beside it. */
function catalogDiagnostic(document: JsonDocument, policy: Policy | undefined, problem: CatalogLoadProblem): PolicyDiagnostic {
  const file = problem.file.replace(/\\/g, '/');
  const index = (policy?.catalog ?? []).findIndex((entry) => file.endsWith(`/${normalize(entry).replace(/\\/g, '/').replace(/^(\.\/)+/, '')}`));
  const path: JsonPath = index >= 0 ? ['catalog', index] : document.nodeAt(['catalog']) ? ['catalog'] : [];
  const range = index >= 0 ? document.rangeOf(path) : path.length > 0 ? document.rangeOf(path, 'key') : { offset: document.root?.offset ?? 0, length: document.root ? 1 : 0 };
  return { code: DiagnosticCode.catalogProblem, severity: 'warning', message: `catalog ${problem.file}: ${problem.message}`, range, path };
}

/**
 * A limit or an `arguments` schema with a schema error is left out of the sanitized policy, so
 * the risky-tool and identifier checks would also say the rule has "no limit" or an unchecked
 * id: one mistake, one report.
 */
function dropEchoes(diagnostics: PolicyDiagnostic[]): void {
  const errorPaths = diagnostics.filter((diagnostic) => diagnostic.severity === 'error' && diagnostic.code === DiagnosticCode.schema).map((diagnostic) => diagnostic.path);
  if (errorPaths.length === 0) return;
  for (let index = diagnostics.length - 1; index >= 0; index--) {
    const diagnostic = diagnostics[index]!;
    if (diagnostic.code !== DiagnosticCode.riskyAllow && diagnostic.code !== DiagnosticCode.uncheckedIdentifier) continue;
    if (errorPaths.some((path) => path.length > diagnostic.path.length && diagnostic.path.every((segment, at) => path[at] === segment))) diagnostics.splice(index, 1);
  }
}

export interface LoadedPolicy extends PolicyAnalysis {
  path: string;
  catalog: ToolCatalog;
  catalogFiles: string[];
}

/** Reads a policy file and its catalogs. An unreadable file is a diagnostic, never a throw. */
export function loadPolicyFile(path: string, extraCatalogFiles: readonly string[] = []): LoadedPolicy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a folder, not a policy file' : `cannot read the file (${code ?? (error as Error).message})`;
    const document = new JsonDocument('{}');
    const { catalog } = loadCatalog(path, [], extraCatalogFiles);
    return {
      path,
      document,
      policy: undefined,
      diagnostics: [{ code: DiagnosticCode.unreadable, severity: 'error', message, range: { offset: 0, length: 0 }, path: [] }],
      compiled: undefined,
      catalog,
      catalogFiles: [],
    };
  }
  return loadPolicyText(path, text, extraCatalogFiles);
}

/** A policy's text as an editor holds it (unsaved edits included), with the catalogs of its file. */
export function loadPolicyText(path: string, text: string, extraCatalogFiles: readonly string[] = []): LoadedPolicy {
  const named = namedCatalogs(text);
  const { catalog, problems, files } = loadCatalog(path, named, extraCatalogFiles);
  return { path, ...analyzePolicy(text, { catalog, catalogProblems: problems }), catalog, catalogFiles: files };
}

function namedCatalogs(text: string): string[] {
  const value = new JsonDocument(text).value;
  if (!isObject(value) || !Array.isArray(value.catalog)) return [];
  return value.catalog.filter((entry): entry is string => typeof entry === 'string' && entry.length > 0);
}
