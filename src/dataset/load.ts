// Reads JSONL case files line by line, validates each line and reports every problem with file, line and field.
import { createReadStream, statSync, readdirSync } from "node:fs";
import { createInterface } from "node:readline";
import { createHash } from "node:crypto";
import path from "node:path";
import { caseSchema, type Case } from "./schema.js";
import { checkCase } from "./checks.js";
import type { Taxonomy } from "../taxonomy/load.js";
import type { InputIssue } from "../util/errors.js";
import { hashOf } from "../util/hash.js";
import { describeZodIssue } from "../util/zod.js";
import { interner } from "../util/intern.js";

export interface LoadedCase {
  case: Case;
  file: string;
  line: number;
  dimension: string;
  /** Hash of the case content: part of the response cache key, stored with the run. */
  contentHash: string;
}

/** What planning, unit counting and the replay check need of a case; its text stays on disk until it is stored. */
export interface CaseSummary {
  case: { id: string; task: string; format: Case["format"]; provenance: { specialty: string }; variants?: { id: string }[] };
  file: string;
  line: number;
  dimension: string;
}

/** Task, format, specialty and dimension repeat across 100,000 summaries (a few hundred distinct values). */
const one = interner();

export function summarizeCase(lc: LoadedCase): CaseSummary {
  const c = lc.case;
  return {
    case: { id: c.id, task: one(c.task), format: one(c.format), provenance: { specialty: one(c.provenance.specialty) }, ...(c.format === "group" ? { variants: c.variants.map((v) => ({ id: v.id })) } : {}) },
    file: lc.file, line: lc.line, dimension: one(lc.dimension),
  };
}

export interface DatasetFile {
  path: string;
  sha256: string;
  cases: number;
}

export interface LoadResult {
  cases: LoadedCase[];
  issues: InputIssue[];
  files: DatasetFile[];
}

/**
 * A validated case as read. Its content hash is computed when first asked for (a getter on the class, not a closure
 * per case): a run plans 100,000 cases from summaries and hashes only the ones it stores.
 */
class ReadCase implements LoadedCase {
  #hash: string | undefined;
  readonly case: Case;
  readonly dimension: string;
  constructor(c: Case, readonly file: string, readonly line: number) {
    this.case = c;
    this.dimension = c.task.slice(0, 2);
  }
  get contentHash(): string {
    return (this.#hash ??= hashOf(this.case));
  }
}

const FORMAT_NAMES = "choice, open, extraction, numeric, dialogue, group";
/** A case larger than this is almost surely a mistake (a whole file pasted in), and would swamp memory and prompts. */
export const MAX_LINE_CHARS = 2_000_000;

/** Expands directories to the .jsonl files below them, sorted so runs are reproducible. */
export function listDatasetFiles(paths: string[]): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const entry of readdirSync(p).sort()) walk(path.join(p, entry));
    } else if (p.endsWith(".jsonl")) {
      out.push(p);
    }
  };
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw Object.assign(new Error(`${p}: no such file or directory`), { code: "ENOENT" });
    }
    if (st.isFile() && !p.endsWith(".jsonl")) out.push(p); // named explicitly: validate it anyway, it will say what is wrong
    else walk(p);
  }
  return out;
}

/** Validates one parsed JSON value as a case; returns the case or the issues. */
export function parseCaseRecord(raw: unknown, file: string, line: number, tax: Taxonomy): { case?: Case; issues: InputIssue[] } {
  const issue = (field: string, message: string, severity: "error" | "warning" = "error"): InputIssue => ({ file, line, field, message, severity });
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return { issues: [issue("", "expected a JSON object (one case per line)")] };
  const rec = raw as Record<string, unknown>;
  // The discriminated union reports an unknown format vaguely; say what is expected ourselves.
  if (typeof rec.format !== "string" || !FORMAT_NAMES.split(", ").includes(rec.format)) {
    return { issues: [issue("format", `expected one of ${FORMAT_NAMES}, got ${JSON.stringify(rec.format ?? null)}`)] };
  }
  const parsed = caseSchema.safeParse(raw);
  if (!parsed.success) {
    return { issues: parsed.error.issues.map((i) => {
      const d = describeZodIssue(i);
      return issue(d.field, d.message);
    }) };
  }
  const issues = checkCase(parsed.data, tax).map((c) => issue(c.field, c.message, c.severity));
  return { case: parsed.data, issues };
}

export interface ScanOptions {
  /**
   * A second pass over files already validated: only cases whose id this accepts are validated and handed over;
   * the rest are skipped after JSON.parse. Duplicate ids and file-level problems are not reported again.
   */
  only?: (id: string) => boolean;
}

/**
 * Streams the case files: every valid case goes to `onCase` as it is read, so a caller can keep what it needs (the
 * runner keeps a few fields per case, then reads the planned ones again) instead of the whole dataset.
 */
export async function scanDatasets(paths: string[], tax: Taxonomy, onCase: (lc: LoadedCase) => void, opts: ScanOptions = {}): Promise<Omit<LoadResult, "cases">> {
  const files = listDatasetFiles(paths);
  const issues: InputIssue[] = [];
  const fileInfo: DatasetFile[] = [];
  const seen = new Map<string, string>();

  for (const file of files) {
    const digest = createHash("sha256");
    let lineNo = 0;
    let count = 0;
    let nonBlank = 0;
    const stream = createReadStream(file);
    stream.on("data", (chunk) => digest.update(chunk));
    const rl = createInterface({ input: stream, crlfDelay: Infinity });
    try {
      for await (let text of rl) {
        lineNo++;
        if (lineNo === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1); // tolerate a UTF-8 BOM
        if (text.endsWith("\r")) text = text.slice(0, -1);
        if (!text.trim()) continue;
        nonBlank++;
        if (text.length > MAX_LINE_CHARS) {
          issues.push({ file, line: lineNo, field: "", message: `line is ${text.length} characters; a case may be at most ${MAX_LINE_CHARS} (split long records or move documents out)`, severity: "error" });
          continue;
        }
        if (text.includes("\uFFFD")) {
          issues.push({ file, line: lineNo, field: "", message: "not valid UTF-8 (save the file as UTF-8)", severity: "error" });
          continue;
        }
        let raw: unknown;
        try {
          raw = JSON.parse(text);
        } catch (err) {
          issues.push({ file, line: lineNo, field: "", message: `not valid JSON: ${(err as Error).message}`, severity: "error" });
          continue;
        }
        if (opts.only && !opts.only(String((raw as { id?: unknown } | null)?.id))) continue;
        const result = parseCaseRecord(raw, file, lineNo, tax);
        issues.push(...result.issues);
        const c = result.case;
        if (!c || result.issues.some((i) => i.severity === "error")) continue;
        if (!opts.only) {
          const prev = seen.get(c.id);
          if (prev) {
            issues.push({ file, line: lineNo, field: "id", message: `duplicate case id "${c.id}" (first at ${prev})`, severity: "error" });
            continue;
          }
          seen.set(c.id, `${file}:${lineNo}`);
        }
        onCase(new ReadCase(c, file, lineNo));
        count++;
      }
    } catch (err) {
      issues.push({ file, line: 0, field: "", message: `cannot read: ${(err as Error).message}`, severity: "error" });
    }
    if (nonBlank === 0) issues.push({ file, line: 0, field: "", message: `empty file${lineNo ? " (only blank lines)" : ""}: expected one JSON case per line`, severity: "error" });
    fileInfo.push({ path: file, sha256: digest.digest("hex"), cases: count });
  }
  if (files.length === 0) issues.push({ file: paths.join(", "), line: 0, field: "", message: "no .jsonl case files found", severity: "error" });
  return { issues, files: fileInfo };
}

/** Every valid case in memory: for validation, statistics, the dry run and the demo (not for runs; see scanDatasets). */
export async function loadDatasets(paths: string[], tax: Taxonomy): Promise<LoadResult> {
  const cases: LoadedCase[] = [];
  const r = await scanDatasets(paths, tax, (lc) => cases.push(lc));
  return { cases, ...r };
}
