// A small RFC 4180 reader that remembers the line each record starts on (review files are edited by hand in
// spreadsheets; an error must say which line), and the writer side's formula escaping undone.

export interface CsvRecord {
  line: number;
  cells: string[];
}

/** Parses CSV text (BOM, CRLF or LF, quoted cells with commas, quotes and newlines). Blank lines are skipped. */
export function readCsv(text: string): { records: CsvRecord[]; error: { line: number; message: string } | null } {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const records: CsvRecord[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const start = line;
    const cells: string[] = [];
    let cell = "";
    let quoted = false;
    let atCellStart = true;
    let done = false;
    while (i < text.length && !done) {
      const ch = text[i]!;
      if (quoted) {
        if (ch === '"') {
          if (text[i + 1] === '"') {
            cell += '"';
            i += 2;
            continue;
          }
          quoted = false;
          i++;
          continue;
        }
        if (ch === "\n") line++;
        cell += ch;
        i++;
        continue;
      }
      if (ch === '"' && atCellStart) {
        quoted = true;
        atCellStart = false;
        i++;
      } else if (ch === ",") {
        cells.push(cell);
        cell = "";
        atCellStart = true;
        i++;
      } else if (ch === "\r" || ch === "\n") {
        i += ch === "\r" && text[i + 1] === "\n" ? 2 : 1;
        line++;
        done = true;
      } else {
        cell += ch;
        atCellStart = false;
        i++;
      }
    }
    if (quoted) return { records, error: { line: start, message: "a quoted cell is never closed (missing \")" } };
    cells.push(cell);
    if (cells.length === 1 && cells[0] === "") continue;
    records.push({ line: start, cells });
  }
  return { records, error: null };
}

/** Undoes the export's protection against spreadsheet formulas: a leading ' before = + - @ tab or CR is removed. */
export function unescapeCell(s: string): string {
  return /^'[=+\-@\t\r]/.test(s) ? s.slice(1) : s;
}
