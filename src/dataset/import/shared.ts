// What every importer shares: reading the source file, locating records, ids, provenance, language, and the final
// validation of each produced case with the project's own loader checks, so an import never yields a case that
// `datasets validate` would reject.
import { readFileSync } from "node:fs";
import path from "node:path";
import { readCsvLines } from "../../util/csv.js";
import type { z } from "zod";
import type { Case } from "../schema.js";
import { parseCaseRecord } from "../load.js";
import type { Taxonomy } from "../../taxonomy/load.js";
import { UserError } from "../../util/errors.js";
import { sha256 } from "../../util/hash.js";

/** Where a source record sits: a line (JSONL, CSV) or a label such as "record 3" (JSON array) or "PMID 123". */
export interface Where {
  line?: number;
  record?: string;
  /** The record's own id in the source, when it has one. */
  sourceId?: string;
}

/** A skipped record, or a note about an adjustment made while importing one (never silent). */
export interface ImportProblem extends Where {
  file: string;
  field: string;
  reason: string;
}

export function formatProblem(p: ImportProblem): string {
  const at = `${p.file}${p.line !== undefined ? `:${p.line}` : ""}${p.record ? ` ${p.record}` : ""}`;
  const id = p.sourceId !== undefined ? ` (id ${p.sourceId})` : "";
  return `${at}${id}: ${p.field ? `${p.field}: ` : ""}${p.reason}`;
}

/** Thrown while mapping one record: that record is skipped with this field and reason; the import goes on. */
export class SkipRecord extends Error {
  constructor(readonly field: string, reason: string) {
    super(reason);
  }
}

export type CsvCaseFormat = "choice" | "open" | "numeric";

export interface ImportOptions {
  file: string;
  tax: Taxonomy;
  /** --task: overrides the importer's own task choice. */
  task?: string;
  /** --map field=column. */
  map: Record<string, string>;
  /** --dataset: the dataset's name in provenance (and the id prefix). */
  dataset?: string;
  /** csv only: --format. */
  format?: CsvCaseFormat;
}

/** A case built from one source unit (a record, or a question of a record), not yet validated. */
export interface Draft {
  where: Where;
  raw: Record<string, unknown>;
}

/** What a format module returns: drafts, the units it could not map, and notes. `units` = drafts + skipped. */
export interface ImporterOutput {
  units: number;
  drafts: Draft[];
  skipped: ImportProblem[];
  notes: ImportProblem[];
}

export interface ImportResult {
  from: string;
  file: string;
  dataset: string;
  /** Source units seen (records; for cmb-clin, questions): imported + skipped. */
  units: number;
  cases: Case[];
  skipped: ImportProblem[];
  notes: ImportProblem[];
}

/** Reads a source file as UTF-8 (a BOM is dropped). Unreadable or non-UTF-8 files are bad input (exit 2). */
export function readSourceText(file: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new UserError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new UserError(`${file}: not valid UTF-8 (save it as UTF-8, e.g. "CSV UTF-8" in Excel)`);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (!text.trim()) throw new UserError(`${file}: empty file: no records to import`);
  return text;
}

export interface SourceRecord {
  where: Where;
  value: unknown;
}

/**
 * A JSON array, a single JSON object, or JSONL. A JSONL line that does not parse is one skipped record;
 * a file that is neither is bad input.
 */
export function readJsonRecords(text: string, file: string): { records: SourceRecord[]; skipped: ImportProblem[] } {
  const trimmed = text.trim();
  try {
    const whole: unknown = JSON.parse(trimmed);
    if (Array.isArray(whole)) return { records: whole.map((value, i) => ({ where: { record: `record ${i + 1}` }, value })), skipped: [] };
    if (whole && typeof whole === "object") return { records: [{ where: { line: 1 }, value: whole }], skipped: [] };
    throw new UserError(`${file}: expected a JSON array of records, or one JSON object per line (JSONL)`);
  } catch (err) {
    if (err instanceof UserError) throw err;
    if (trimmed.startsWith("[")) throw new UserError(`${file}: not valid JSON: ${(err as Error).message}`);
  }
  const records: SourceRecord[] = [];
  const skipped: ImportProblem[] = [];
  text.split("\n").forEach((rawLine, i) => {
    const line = rawLine.endsWith("\r") ? rawLine.slice(0, -1) : rawLine;
    if (!line.trim()) return;
    try {
      records.push({ where: { line: i + 1 }, value: JSON.parse(line) });
    } catch (err) {
      skipped.push({ file, line: i + 1, field: "", reason: `not valid JSON: ${(err as Error).message}` });
    }
  });
  return { records, skipped };
}

/** Header + rows as objects keyed by header cell. Rows with the wrong number of fields or broken quoting are skipped. */
export function readCsvRecords(text: string, file: string): { header: string[]; rows: SourceRecord[]; skipped: ImportProblem[] } {
  let parsed: ReturnType<typeof readCsvLines>;
  try {
    parsed = readCsvLines(text);
  } catch (err) {
    throw new UserError(`${file}: not valid CSV: ${(err as Error).message}`);
  }
  const skipped: ImportProblem[] = parsed.problems.map((p) => ({ file, line: p.line, field: "", reason: `not valid CSV: ${p.message}` }));
  const first = parsed.records[0];
  if (!first) throw new UserError(`${file}: no header row`);
  const header = first.cells.map((h) => h.trim());
  const empties = header.filter((h) => !h).length;
  if (empties) throw new UserError(`${file}:1: the header row has ${empties} empty column name(s)`);
  const dup = header.find((h, i) => header.indexOf(h) !== i);
  if (dup) throw new UserError(`${file}:1: column "${dup}" appears twice in the header`);
  const rows: SourceRecord[] = [];
  for (const { line, cells } of parsed.records.slice(1)) {
    if (cells.length !== header.length) {
      skipped.push({ file, line, field: "", reason: `has ${cells.length} field(s); the header has ${header.length}` });
      continue;
    }
    rows.push({ where: { line }, value: Object.fromEntries(header.map((h, i) => [h, cells[i]!])) });
  }
  return { header, rows, skipped };
}

/** Share of CJK ideographs among letters: Chinese medical text keeps English abbreviations, so a low bar. */
export function detectLanguage(text: string): "zh" | "en" {
  const cjk = text.match(/[\u3400-\u9fff\uf900-\ufaff]/g)?.length ?? 0;
  const latin = text.match(/[A-Za-z]/g)?.length ?? 0;
  return cjk > 0 && cjk / (cjk + latin) >= 0.2 ? "zh" : "en";
}

/** Lowercase ASCII slug for an id prefix; "" when nothing is left. */
export function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_.-]+/g, "-").replace(/^-+|-+$/g, "");
}

/** A valid case id from the prefix and the source id; characters the schema forbids are replaced and a hash keeps it unique. */
export function caseId(prefix: string, sourceId: string): string {
  const safe = sourceId.replace(/[^A-Za-z0-9_.:-]/g, "_");
  let id = `${prefix}:${safe}`;
  if (safe !== sourceId || id.length > 128) id = `${prefix}:${safe.slice(0, 110 - prefix.length)}-${sha256(sourceId).slice(0, 8)}`;
  return id;
}

/** The source id as text, or undefined when the record has none. */
export function idText(v: unknown): string | undefined {
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  if (typeof v === "string" && v.trim()) return v.trim();
  return undefined;
}

export function datasetName(opts: ImportOptions, fallback: string): string {
  return opts.dataset?.trim() || fallback;
}

export function fileStem(file: string): string {
  return path.basename(file).replace(/\.[^.]+$/, "");
}

export interface ProvenanceFields {
  dataset: string;
  file: string;
  sourceId?: string;
  text: string;
  specialty?: string;
  difficulty?: "common" | "rare" | "difficult";
  synthetic?: boolean;
  note?: string;
}

/** Provenance for an imported case; the origin is the file's name, not the importing machine's path. */
export function provenance(p: ProvenanceFields): Record<string, unknown> {
  return {
    source: "public-dataset",
    difficulty: p.difficulty ?? "common",
    specialty: p.specialty?.trim() || UNKNOWN_SPECIALTY,
    language: detectLanguage(p.text),
    synthetic: p.synthetic ?? false,
    dataset: p.dataset,
    origin: path.basename(p.file),
    ...(p.sourceId !== undefined ? { originId: p.sourceId } : {}),
    ...(p.note ? { note: p.note } : {}),
  };
}

export const UNKNOWN_SPECIALTY = "未分类";

/** Key points (得分点) from a reference answer: its lines, items and sentences. */
export function splitKeyPoints(answer: string): string[] {
  return answer
    .split(/\r?\n|[；;。]|(?<=\.)\s+(?=[A-Z])/)
    .map((s) => s.replace(/^\s*(?:[-*•·]|\(?\d+[.)、）]|[①-⑳])\s*/, "").trim())
    .filter((s) => s.length > 1);
}

/** The first zod issue as a skip: field path and message. */
export function zodSkip(error: z.ZodError, prefix = ""): SkipRecord {
  const i = error.issues[0]!;
  const field = [prefix, ...i.path.map(String)].filter(Boolean).join(".");
  // zod's default "Invalid input: expected array, received undefined" reads better as "missing".
  const missing = i.code === "invalid_type" && /received undefined/.test(i.message);
  return new SkipRecord(field, missing ? `missing (expected ${i.expected})` : i.message);
}

/** The task to use: --task wins, then the record's own, then the default; unknown ids are a skip. */
export function checkTaskId(tax: Taxonomy, id: string, field: string): string {
  const t = id.trim().toUpperCase();
  if (!tax.task(t)) throw new SkipRecord(field, `unknown task id "${id}" (expected one of the ${tax.tasks.length} ids listed by \`medeval tasks\`)`);
  return t;
}

/** Runs `map` on each record, turning SkipRecord into a skip at the record's location. */
export function mapRecords(
  records: SourceRecord[],
  file: string,
  map: (r: SourceRecord, note: (field: string, reason: string) => void) => Draft[],
): { drafts: Draft[]; skipped: ImportProblem[]; notes: ImportProblem[]; units: number } {
  const drafts: Draft[] = [];
  const skipped: ImportProblem[] = [];
  const notes: ImportProblem[] = [];
  for (const r of records) {
    const note = (field: string, reason: string) => notes.push({ file, ...r.where, field, reason });
    try {
      drafts.push(...map(r, note));
    } catch (err) {
      if (!(err instanceof SkipRecord)) throw err;
      skipped.push({ file, ...r.where, field: err.field, reason: err.message });
    }
  }
  return { drafts, skipped, notes, units: drafts.length + skipped.length };
}

/**
 * Validates every draft exactly as `datasets validate` would (errors skip the case, warnings become notes),
 * rejects duplicate ids, and writes each case's fields in the order authors read them (id, task, format, input, reference, …).
 */
export function finishImport(from: string, dataset: string, opts: ImportOptions, out: ImporterOutput): ImportResult {
  const cases: Case[] = [];
  const skipped = [...out.skipped];
  const notes = [...out.notes];
  const seen = new Map<string, Where>();
  for (const d of out.drafts) {
    const at = { file: opts.file, ...d.where };
    const res = parseCaseRecord(d.raw, opts.file, d.where.line ?? 0, opts.tax);
    const errors = res.issues.filter((i) => i.severity === "error");
    if (!res.case || errors.length) {
      const e = errors[0] ?? { field: "", message: "invalid case" };
      skipped.push({ ...at, field: e.field, reason: `the mapped case is invalid: ${e.message}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ""}` });
      continue;
    }
    const prev = seen.get(res.case.id);
    if (prev) {
      skipped.push({ ...at, field: "id", reason: `duplicate id: case "${res.case.id}" was already imported from ${formatProblem({ file: opts.file, line: prev.line, record: prev.record, field: "", reason: "" }).replace(/: $/, "")}` });
      continue;
    }
    seen.set(res.case.id, d.where);
    for (const w of res.issues) notes.push({ ...at, field: w.field, reason: w.message });
    const { id, task, format, input, reference, ...rest } = res.case as Case & { input: unknown };
    cases.push({ id, task, format, input, reference, ...rest } as Case);
  }
  return { from, file: opts.file, dataset, units: out.units, cases, skipped, notes };
}

/** --map field=column pairs, checked against the fields a format knows. */
export function parseMapArgs(pairs: string[], allowed: readonly string[], from: string): Record<string, string> {
  const map: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf("=");
    const field = eq > 0 ? p.slice(0, eq).trim() : "";
    const column = eq > 0 ? p.slice(eq + 1).trim() : "";
    if (!field || !column) throw new UserError(`--map "${p}": expected field=column, e.g. --map question=题目`);
    if (!allowed.includes(field)) throw new UserError(`--map ${field}: --from ${from} knows the fields ${allowed.join(", ")}`);
    map[field] = column;
  }
  return map;
}

/** A field's column: the --map column if given, else the first candidate header present (case-insensitive). */
export function resolveColumn(keys: readonly string[], candidates: readonly string[]): string | undefined {
  for (const c of candidates) {
    const exact = keys.find((k) => k === c);
    if (exact !== undefined) return exact;
  }
  for (const c of candidates) {
    const loose = keys.find((k) => k.trim().toLowerCase() === c.toLowerCase());
    if (loose !== undefined) return loose;
  }
  return undefined;
}

/** Checks that every mapped column exists in the source; a missing one is a bad argument (exit 2). */
export function checkMappedColumns(map: Record<string, string>, keys: Set<string>, file: string): void {
  for (const [field, column] of Object.entries(map)) {
    if (!keys.has(column)) {
      const shown = [...keys].slice(0, 30).join(", ");
      throw new UserError(`--map ${field}=${column}: ${file} has no column "${column}" (columns: ${shown})`);
    }
  }
}

/** A text cell: strings trimmed, numbers as text, everything else undefined. */
export function cellText(v: unknown): string | undefined {
  if (typeof v === "string") return v.trim() || undefined;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  return undefined;
}

export const DIFFICULTY_WORDS: Record<string, "common" | "rare" | "difficult"> = {
  common: "common", rare: "rare", difficult: "difficult", 常见: "common", 罕见: "rare", 疑难: "difficult", 困难: "difficult",
};

export function parseDifficulty(v: string | undefined, field: string): "common" | "rare" | "difficult" | undefined {
  if (v === undefined) return undefined;
  const d = DIFFICULTY_WORDS[v.trim().toLowerCase()];
  if (!d) throw new SkipRecord(field, `"${v}" is not a difficulty (expected common, rare, difficult or 常见, 罕见, 疑难)`);
  return d;
}

export function parseBool(v: string | undefined, field: string): boolean | undefined {
  if (v === undefined) return undefined;
  const t = v.trim().toLowerCase();
  if (["true", "yes", "1", "是"].includes(t)) return true;
  if (["false", "no", "0", "否"].includes(t)) return false;
  throw new SkipRecord(field, `"${v}" is not true/false (或 是/否)`);
}
