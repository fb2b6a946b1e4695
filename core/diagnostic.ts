import type { JsonPath } from './jsonPath';

export type Severity = 'error' | 'warning' | 'info';

/** Stable codes: editors, `check --format json` and code actions key on them. */
export const DiagnosticCode = {
  unreadable: 'unreadable-file',
  syntax: 'syntax',
  duplicateKey: 'duplicate-key',
  schema: 'schema',
  unknownProperty: 'unknown-property',
  invalidArgumentsSchema: 'invalid-arguments-schema',
  argumentsUnknownKeyword: 'arguments-unknown-keyword',
  counterMismatch: 'counter-mismatch',
  globTie: 'glob-tie',
  hiddenRule: 'hidden-rule',
  unknownTool: 'unknown-tool',
  globMatchesNothing: 'glob-matches-nothing',
  unknownArgument: 'unknown-argument',
  shadowedRule: 'shadowed-rule',
  riskyAllow: 'risky-allow',
  catalogProblem: 'catalog-problem',
  unknownServer: 'unknown-server',
  ruleNeverApplies: 'rule-never-applies',
  invalidSelector: 'invalid-selector',
  selectorMatchesNothing: 'selector-matches-nothing',
  pinningWithoutPins: 'pinning-without-pins',
  uncheckedIdentifier: 'unchecked-identifier',
  pinDrift: 'pin-drift',
  inexactNumber: 'inexact-number',
} as const;
export type DiagnosticCode = (typeof DiagnosticCode)[keyof typeof DiagnosticCode];

export interface TextRange {
  offset: number;
  length: number;
}

export interface PolicyDiagnostic {
  code: DiagnosticCode;
  severity: Severity;
  message: string;
  range: TextRange;
  path: JsonPath;
  /** Facts for quick fixes, e.g. { suggestion: "fluentcrm_resume_campaign" }. */
  data?: Record<string, unknown>;
}

export function hasErrors(diagnostics: readonly PolicyDiagnostic[]): boolean {
  return diagnostics.some((diagnostic) => diagnostic.severity === 'error');
}
