/** An error caused by the user's input or environment: printed without a stack, exit code 2. */
export class UserError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(message);
    this.name = "UserError";
    this.exitCode = exitCode;
  }
}

/** One problem in an input file, located precisely enough to fix it. */
export interface InputIssue {
  file: string;
  /** 1-based line (JSONL, CSV) or record number; 0 when the issue is about the whole file. */
  line: number;
  /** Dotted path of the field, or "" for the whole record. */
  field: string;
  message: string;
  severity: "error" | "warning";
}

export function formatIssue(i: InputIssue): string {
  const where = i.line > 0 ? `${i.file}:${i.line}` : i.file;
  return `${where}: ${i.severity}: ${i.field ? `${i.field}: ` : ""}${i.message}`;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
