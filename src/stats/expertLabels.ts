// Expert labels from a CSV file, for calibrating the judge:
//   case_id,repeat,result,reasoning,approach,safety,rubric,reviewer,comment
//   DA01-003,0,8,6,7,ok,r1=1;r2=0;r3=0,张医生,
// Only case_id is required; an empty cell means "not labelled". Axes are integers 0–10, safety ok|minor|critical,
// rubric "id=1;id=0" (also met/not, true/false, y/n, 是/否). UTF-8, with or without a BOM (Excel writes one).
import { readFileSync } from "node:fs";
import { readCsvLines } from "../util/csv.js";
import { z } from "zod";
import { UserError, formatIssue, type InputIssue } from "../util/errors.js";
import type { Labels, Safety } from "./calibration.js";

export interface ExpertLabel extends Labels {
  caseId: string;
  repeat: number;
  reviewer: string | null;
  /** 1-based line in the file, for later errors (e.g. an unknown case id). */
  line: number;
}

const COLUMNS = ["case_id", "repeat", "result", "reasoning", "approach", "safety", "rubric", "reviewer", "comment"];
const MET: Record<string, boolean> = { "1": true, "0": false, met: true, not: false, "not-met": false, true: true, false: false, y: true, n: false, yes: true, no: false, 是: true, 否: false };

const blank = (v: string | undefined) => v === undefined || v.trim() === "";
const axisCell = z.string().optional().transform((v, ctx) => {
  if (blank(v)) return null;
  const n = Number(v!.trim());
  if (!Number.isInteger(n) || n < 0 || n > 10) {
    ctx.addIssue({ code: "custom", message: `expected an integer from 0 to 10 or an empty cell, got "${v}"` });
    return z.NEVER;
  }
  return n;
});

const rowSchema = z.object({
  case_id: z.string().trim().min(1, "expected a case id"),
  repeat: z.string().optional().transform((v, ctx) => {
    if (blank(v)) return 0;
    const n = Number(v!.trim());
    if (!Number.isInteger(n) || n < 0) {
      ctx.addIssue({ code: "custom", message: `expected a whole number ≥ 0 or an empty cell, got "${v}"` });
      return z.NEVER;
    }
    return n;
  }),
  result: axisCell,
  reasoning: axisCell,
  approach: axisCell,
  safety: z.string().optional().transform((v, ctx) => {
    if (blank(v)) return null;
    const s = v!.trim().toLowerCase();
    if (s !== "ok" && s !== "minor" && s !== "critical") {
      ctx.addIssue({ code: "custom", message: `expected ok, minor, critical or an empty cell, got "${v}"` });
      return z.NEVER;
    }
    return s as Safety;
  }),
  rubric: z.string().optional().transform((v, ctx) => {
    if (blank(v)) return undefined;
    const out: Record<string, boolean> = {};
    for (const part of v!.split(/[;；]/).map((p) => p.trim()).filter(Boolean)) {
      const m = /^([^=:：]+)[=:：](.+)$/.exec(part);
      const met = m ? MET[m[2]!.trim().toLowerCase()] : undefined;
      if (!m || met === undefined) {
        ctx.addIssue({ code: "custom", message: `expected "id=1;id=0" (1/0, met/not, true/false), got "${part}"` });
        return z.NEVER;
      }
      const id = m[1]!.trim();
      if (id in out) {
        ctx.addIssue({ code: "custom", message: `item ${id} is given twice` });
        return z.NEVER;
      }
      out[id] = met;
    }
    return out;
  }),
  reviewer: z.string().optional(),
  comment: z.string().optional(),
});

/** Parses and validates the file; every problem is reported as file:line: field: message, and nothing is returned if any. */
export function parseExpertLabels(text: string, file: string): ExpertLabel[] {
  let parsed: ReturnType<typeof readCsvLines>;
  try {
    parsed = readCsvLines(text);
  } catch (err) {
    throw new UserError(`${file}: not a valid CSV file (${(err as Error).message})`);
  }
  const issues: InputIssue[] = parsed.problems.map((p) => ({ file, line: p.line ?? 0, field: "", message: `not valid CSV: ${p.message}`, severity: "error" as const }));
  const [head, ...body] = parsed.records;
  const header = (head?.cells ?? []).map((c) => c.trim().toLowerCase());
  const unknown = header.filter((c) => c && !COLUMNS.includes(c));
  if (unknown.length) issues.push({ file, line: 1, field: unknown.join(", "), message: `unknown column (expected some of ${COLUMNS.join(", ")})`, severity: "error" });
  if (!header.includes("case_id")) issues.push({ file, line: 1, field: "case_id", message: "the header must have a case_id column", severity: "error" });
  if (!body.length && !issues.length) issues.push({ file, line: 0, field: "", message: "no label rows", severity: "error" });
  const records: { record: Record<string, string>; line: number }[] = [];
  for (const r of body) {
    if (r.cells.length !== header.length) issues.push({ file, line: r.line, field: "", message: `has ${r.cells.length} field(s); the header has ${header.length}`, severity: "error" });
    else records.push({ line: r.line, record: Object.fromEntries(header.map((h, i) => [h, r.cells[i]!])) });
  }

  const out: ExpertLabel[] = [];
  const seen = new Map<string, number>();
  if (!issues.length) {
    for (const { record, line } of records) {
      const parsed = rowSchema.safeParse(record);
      if (!parsed.success) {
        for (const i of parsed.error.issues) issues.push({ file, line, field: i.path.join(".") || "(row)", message: i.message, severity: "error" });
        continue;
      }
      const r = parsed.data;
      const key = `${r.case_id}\u0000${r.repeat}`;
      if (seen.has(key)) {
        issues.push({ file, line, field: "case_id", message: `${r.case_id} (repeat ${r.repeat}) is labelled again (first on line ${seen.get(key)})`, severity: "error" });
        continue;
      }
      seen.set(key, line);
      if (r.result === null && r.reasoning === null && r.approach === null && r.safety === null && !r.rubric) {
        issues.push({ file, line, field: "(row)", message: "the row labels nothing: give at least one of result, reasoning, approach, safety, rubric", severity: "error" });
        continue;
      }
      out.push({ caseId: r.case_id, repeat: r.repeat, result: r.result, reasoning: r.reasoning, approach: r.approach, safety: r.safety, ...(r.rubric ? { rubric: r.rubric } : {}), reviewer: r.reviewer?.trim() || null, line });
    }
  }
  if (issues.length) {
    const shown = issues.slice(0, 30).map(formatIssue).join("\n");
    throw new UserError(`${file}: ${issues.length} problem(s) in the expert labels; nothing was used:\n${shown}${issues.length > 30 ? `\n… and ${issues.length - 30} more` : ""}`);
  }
  return out;
}

export function loadExpertLabels(file: string): ExpertLabel[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new UserError(`${file}: cannot read the labels file (${(err as Error).message})`);
  }
  return parseExpertLabels(text, file);
}
