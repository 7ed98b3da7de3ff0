// Scores answers a vendor submitted (JSONL or CSV) without calling anything: how a centre evaluates a product it
// cannot call. Every row is validated on load; the file is checked against the planned cases before the run starts.
import path from "node:path";
import { z } from "zod";
import type { Adapter, AdapterReply, AdapterRequest } from "./types.js";
import type { ReplayAdapterConfig } from "../config/schema.js";
import type { CaseSummary } from "../dataset/load.js";
import { readCsvRecords, readSourceText } from "../dataset/import/shared.js";
import { splitReasoning } from "./reasoning.js";
import { formatIssue, UserError, type InputIssue } from "../util/errors.js";
import { sha256 } from "../util/hash.js";

export const REPLAY_COLUMNS = ["case_id", "variant", "answer", "reasoning", "model"] as const;

const optionalText = z.string().nullable().optional();
/** One submitted answer. `variant` is required for group cases (one row per variant) and absent otherwise. */
export const replayRowSchema = z.strictObject({
  case_id: z.string().trim().min(1, "expected a case id such as DA01-001"),
  variant: optionalText,
  answer: z.union([z.string(), z.number(), z.record(z.string(), z.unknown())], { error: "expected the answer text (a string; a JSON object for extraction cases)" }),
  reasoning: optionalText,
  model: optionalText,
});

export interface ReplayRow {
  line: number;
  caseId: string;
  variant: string;
  answer: string;
  reasoning: string | null;
  model: string | null;
}

const key = (caseId: string, variant: string) => `${caseId}\u0000${variant}`;
const label = (caseId: string, variant: string) => (variant ? `${caseId} variant ${variant}` : caseId);

function fail(file: string, issues: InputIssue[], what: string): never {
  const shown = issues.slice(0, 30).map(formatIssue).join("\n");
  throw new UserError(`${file}: ${issues.length} problem(s) in the submitted answers; nothing was run:\n${shown}${issues.length > 30 ? `\n… and ${issues.length - 30} more` : ""}${what ? `\n${what}` : ""}`);
}

/** Reads and validates every row; duplicates of (case_id, variant) are rejected with both lines named. */
export function loadReplayFile(file: string): { rows: ReplayRow[]; hash: string } {
  const ext = path.extname(file).toLowerCase();
  if (![".jsonl", ".ndjson", ".csv"].includes(ext)) throw new UserError(`${file}: expected a .jsonl or .csv answers file (columns ${REPLAY_COLUMNS.join(", ")})`);
  const text = readSourceText(file);
  const issues: InputIssue[] = [];
  const records: { line: number; value: unknown }[] = [];
  if (ext === ".csv") {
    const { header, rows, skipped } = readCsvRecords(text, file);
    for (const col of ["case_id", "answer"]) if (!header.includes(col)) issues.push({ file, line: 1, field: col, message: `missing column (the header needs ${REPLAY_COLUMNS.join(", ")}; variant, reasoning and model are optional)`, severity: "error" });
    for (const col of header) if (!(REPLAY_COLUMNS as readonly string[]).includes(col)) issues.push({ file, line: 1, field: col, message: `unknown column (expected ${REPLAY_COLUMNS.join(", ")})`, severity: "error" });
    for (const s of skipped) issues.push({ file, line: s.line ?? 0, field: s.field ?? "", message: s.reason, severity: "error" });
    if (issues.length) fail(file, issues, "");
    // An empty optional cell means "not given".
    for (const r of rows) records.push({ line: r.where.line ?? 0, value: Object.fromEntries(Object.entries(r.value as Record<string, string>).filter(([k, v]) => v !== "" || k === "answer" || k === "case_id")) });
  } else {
    text.split(/\r?\n/).forEach((l, i) => {
      if (!l.trim()) return;
      try {
        records.push({ line: i + 1, value: JSON.parse(l) });
      } catch (err) {
        issues.push({ file, line: i + 1, field: "", message: `not valid JSON (${(err as Error).message})`, severity: "error" });
      }
    });
  }
  const rows: ReplayRow[] = [];
  const seen = new Map<string, number>();
  for (const rec of records) {
    const parsed = replayRowSchema.safeParse(rec.value);
    if (!parsed.success) {
      for (const i of parsed.error.issues) {
        const unknownKeys = i.code === "unrecognized_keys" ? `unknown field(s) ${i.keys.join(", ")} (expected ${REPLAY_COLUMNS.join(", ")})` : null;
        issues.push({ file, line: rec.line, field: i.path.join("."), message: unknownKeys ?? i.message, severity: "error" });
      }
      continue;
    }
    const d = parsed.data;
    const variant = d.variant?.trim() ?? "";
    const k = key(d.case_id, variant);
    const first = seen.get(k);
    if (first !== undefined) {
      issues.push({ file, line: rec.line, field: "case_id", message: `duplicate answer for ${label(d.case_id, variant)} (first given on line ${first}); give one answer per case and variant`, severity: "error" });
      continue;
    }
    seen.set(k, rec.line);
    rows.push({
      line: rec.line, caseId: d.case_id, variant,
      answer: typeof d.answer === "string" ? d.answer : typeof d.answer === "number" ? String(d.answer) : JSON.stringify(d.answer),
      reasoning: d.reasoning?.trim() ? d.reasoning : null, model: d.model?.trim() ? d.model : null,
    });
  }
  if (issues.length) fail(file, issues, "");
  if (!rows.length) throw new UserError(`${file}: no answers in the file`);
  return { rows, hash: sha256(text) };
}

export interface ReplayCheck {
  file: string;
  /** Planned units (case, or case and variant) the file has no answer for: recorded as errors. */
  missing: string[];
  /** Planned units that have an answer. */
  answered: number;
  /** Rows for cases in the datasets that this run does not cover (other tasks, another shard): ignored. */
  notPlanned: number;
}

export class ReplayAdapter implements Adapter {
  readonly kind = "replay";
  readonly name: string;
  private readonly rows: Map<string, ReplayRow>;
  private readonly hash: string;

  constructor(private readonly cfg: ReplayAdapterConfig) {
    const loaded = loadReplayFile(cfg.file);
    this.rows = new Map(loaded.rows.map((r) => [key(r.caseId, r.variant), r]));
    this.hash = loaded.hash;
    this.name = `replay:${path.basename(cfg.file)}`;
  }

  describe(): Record<string, unknown> {
    // The content hash, not just the name: a corrected file is a different candidate (and cache key).
    return { kind: "replay", file: path.basename(this.cfg.file), sha256: this.hash, model: this.cfg.model ?? null };
  }

  /**
   * Checks the file against the datasets before anything is written: ids not in the datasets, variants a case does
   * not have, or a variant missing for a group case stop the run. Planned cases without an answer are returned.
   */
  check(all: CaseSummary[], planned: CaseSummary[]): ReplayCheck {
    const byId = new Map(all.map((lc) => [lc.case.id, lc.case]));
    const issues: InputIssue[] = [];
    for (const r of this.rows.values()) {
      const c = byId.get(r.caseId);
      const at = { file: this.cfg.file, line: r.line, severity: "error" as const };
      if (!c) issues.push({ ...at, field: "case_id", message: `unknown case id "${r.caseId}" (not in the datasets given)` });
      else if (c.format === "group") {
        const ids = (c.variants ?? []).map((v) => v.id);
        if (!r.variant) issues.push({ ...at, field: "variant", message: `${c.id} is a group case: give one row per variant with a variant column (${ids.join(", ")})` });
        else if (!ids.includes(r.variant)) issues.push({ ...at, field: "variant", message: `case ${c.id} has no variant "${r.variant}" (expected one of ${ids.join(", ")})` });
      } else if (r.variant) {
        issues.push({ ...at, field: "variant", message: `case ${c.id} is not a group case: leave variant empty` });
      }
    }
    if (issues.length) {
      const unknownIds = [...new Set(issues.filter((i) => i.field === "case_id").map((i) => /"(.*)"/.exec(i.message)?.[1]))];
      fail(this.cfg.file, issues, unknownIds.length ? `unknown case ids: ${unknownIds.join(", ")}` : "");
    }
    const missing: string[] = [];
    let answered = 0;
    const plannedKeys = new Set<string>();
    for (const { case: c } of planned) {
      for (const v of c.format === "group" ? (c.variants ?? []).map((x) => x.id) : [""]) {
        plannedKeys.add(key(c.id, v));
        if (this.rows.has(key(c.id, v))) answered++;
        else missing.push(label(c.id, v));
      }
    }
    const notPlanned = [...this.rows.keys()].filter((k) => !plannedKeys.has(k)).length;
    return { file: this.cfg.file, missing, answered, notPlanned };
  }

  async complete(req: AdapterRequest): Promise<AdapterReply> {
    const id = req.case?.id ?? "";
    const variant = req.variant ?? "";
    const row = this.rows.get(key(id, variant));
    if (!row) throw new Error(`no answer submitted for ${label(id, variant)} in ${path.basename(this.cfg.file)}`);
    const split = splitReasoning(row.answer, row.reasoning);
    return { answer: split.answer, reasoning: split.reasoning, usage: null, latencyMs: 0, model: row.model ?? this.cfg.model ?? null, raw: { line: row.line, case_id: row.caseId, variant: row.variant, answer: row.answer, reasoning: row.reasoning, model: row.model } };
  }
}

/** For the runner: when the candidate is a replay file, check it against the plan (throws UserError on unknown ids). */
export function checkReplayPlan(candidate: Adapter, all: CaseSummary[], planned: CaseSummary[]): ReplayCheck | null {
  return candidate instanceof ReplayAdapter ? candidate.check(all, planned) : null;
}

export function describeMissing(c: ReplayCheck): string {
  const shown = c.missing.slice(0, 20).join(", ");
  return `${c.file}: no answer submitted for ${c.missing.length} planned case(s) (recorded as errors): ${shown}${c.missing.length > 20 ? `, … and ${c.missing.length - 20} more` : ""}`;
}
