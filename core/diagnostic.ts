import type { JsonPath } from './jsonPath';

export type Severity = 'error' | 'warning' | 'info';

/** Stable codes: editors, `check --format json` and code actions key on them. */
export const DiagnosticCode = {
  unreadable: 'unreadable-file',
  syntax: 'syntax',
  schema: 'schema',
  unknownProperty: 'unknown-property',
  invalidArgumentsSchema: 'invalid-arguments-schema',
  counterMismatch: 'counter-mismatch',
  globTie: 'glob-tie',
  hiddenRule: 'hidden-rule',
  unknownTool: 'unknown-tool',
  globMatchesNothing: 'glob-matches-nothing',
  unknownArgument: 'unknown-argument',
  shadowedRule: 'shadowed-rule',
  riskyAllow: 'risky-allow',
  catalogProblem: 'catalog-problem',
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

export interface Position {
  /** 0-based */
  line: number;
  /** 0-based, in UTF-16 code units like LSP */
  character: number;
}

export class LineIndex {
  private readonly starts: number[] = [0];
  constructor(text: string) {
    for (let at = 0; at < text.length; at++) {
      const code = text.charCodeAt(at);
      if (code === 10) this.starts.push(at + 1);
      else if (code === 13) {
        if (text.charCodeAt(at + 1) === 10) at++;
        this.starts.push(at + 1);
      }
    }
  }
  offsetAt(position: Position): number {
    const start = this.starts[position.line];
    if (start === undefined) return this.starts[this.starts.length - 1] ?? 0;
    return start + position.character;
  }

  positionAt(offset: number): Position {
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((this.starts[mid] ?? 0) <= offset) low = mid;
      else high = mid - 1;
    }
    return { line: low, character: offset - (this.starts[low] ?? 0) };
  }
}

export function hasErrors(diagnostics: readonly PolicyDiagnostic[]): boolean {
  return diagnostics.some((diagnostic) => diagnostic.severity === 'error');
}
