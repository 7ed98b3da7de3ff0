// The export protects cells against spreadsheet formulas; importing a file undoes that.

/** Undoes the export's protection against spreadsheet formulas: a leading ' before = + - @ tab or CR is removed. */
export function unescapeCell(s: string): string {
  return /^'[=+\-@\t\r]/.test(s) ? s.slice(1) : s;
}
