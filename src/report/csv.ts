// CSV for spreadsheets: UTF-8 with a BOM (Excel reads Chinese correctly), RFC 4180 quoting, and text cells that a
// spreadsheet would run as a formula (starting = + - @ tab CR) prefixed with a single quote.
import type { Report } from "./json.js";

const BOM = "\uFEFF";

export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "";
  let s = typeof v === "string" ? v : typeof v === "boolean" ? String(v) : JSON.stringify(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function toCsv(header: string[], rows: unknown[][]): string {
  return BOM + [header, ...rows].map((r) => r.map(csvCell).join(",")).join("\r\n") + "\r\n";
}

const round = (x: number | null) => (x === null ? null : Math.round(x * 1e6) / 1e6);

/** Internal: one row per case and repeat. Vendor: one row per task (no case appears). */
export function renderCsv(r: Report): string {
  if (r.audience === "vendor") {
    return toCsv(
      ["run_id", "task", "dimension", "task_zh", "task_en", "safety_critical", "score", "ci_lo", "ci_hi", "n", "unscored", "errors", "flagged", "reviewed", "critical_findings", "threshold", "passed"],
      r.tasks.map((t) => [r.run.id, t.id, t.dimension, t.zh, t.en, t.safetyCritical, round(t.mean), round(t.lo), round(t.hi), t.n, t.unscored, t.errors, t.flagged, t.reviewed, t.criticalFindings, t.threshold, t.passed]),
    );
  }
  return toCsv(
    ["run_id", "case_id", "repeat", "task", "dimension", "format", "specialty", "difficulty", "status", "score", "objective", "rubric", "result", "reasoning", "approach", "safety", "passed", "flags", "review_state", "answer"],
    r.cases.map((c) => [
      r.run.id, c.caseId, c.repeat, c.task, c.dimension, c.format, c.specialty, c.difficulty, c.status, round(c.score),
      round(c.components.objective), round(c.components.rubric), round(c.components.result), round(c.components.reasoning), round(c.components.approach),
      c.safety, c.passed, c.flags.map((f) => f.kind).join(";"), c.reviewState,
      c.responses.map((x) => (x.variant ? `[${x.variant}] ` : "") + (x.answer ?? `ERROR: ${x.error ?? ""}`)).join("\n"),
    ]),
  );
}
