// Reading CSV with csv-parse, keeping the line each record starts on: CSV files here are edited by hand in
// spreadsheets, and an error must say which line.
import { parse } from "csv-parse/sync";

export interface CsvLine {
  /** 1-based line the record starts on (a quoted cell may span lines). */
  line: number;
  cells: string[];
}

export interface CsvProblem {
  line: number | undefined;
  message: string;
}

/**
 * Parses CSV text (BOM, CRLF or LF, quoted cells with commas, quotes and newlines), skipping blank lines. Records
 * csv-parse cannot read are reported as problems with their line and left out, so one bad row loses nothing else.
 */
export function readCsvLines(text: string): { records: CsvLine[]; problems: CsvProblem[] } {
  const problems: CsvProblem[] = [];
  const parsed = parse(text, {
    bom: true,
    relax_column_count: true,
    skip_empty_lines: true,
    info: true,
    raw: true,
    skip_records_with_error: true,
    on_skip: (err) => {
      problems.push({ line: typeof err?.lines === "number" ? err.lines : undefined, message: err?.message ?? "unreadable record" });
      return undefined;
    },
  }) as unknown as { record: string[]; raw: string; info: { lines: number } }[];
  // info.lines is the record's last line; count back over the newlines inside quoted cells to where it starts.
  const records = parsed.map((r) => ({ line: r.info.lines - (r.raw.replace(/\r?\n$/, "").match(/\n/g)?.length ?? 0), cells: r.record }));
  return { records, problems };
}
