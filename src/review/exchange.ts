// Offline review: the queue as a spreadsheet-friendly CSV (UTF-8 with BOM, optional Chinese headers, formula cells
// escaped) or JSONL, and the filled-in file read back, validated row by row before anything is applied.
import { z } from "zod";
import type { Taxonomy } from "../taxonomy/load.js";
import type { ScoringConfig } from "../scoring/config.js";
import { csvCell } from "../report/csv.js";
import { itemKey } from "./context.js";
import type { QueueItem } from "./queue.js";
import { PRIORITY_LABEL } from "./queue.js";
import type { ReviewOverview } from "./state.js";
import { itemText, rubricText } from "./view.js";
import { caseRubric, judgeValues, type ExpertValues } from "./score.js";
import { unescapeCell } from "./csv.js";
import { readCsvLines } from "../util/csv.js";
import { recordDecision } from "./decide.js";
import { listActions, type Safety } from "./actions.js";
import { RunStore } from "../store/runStore.js";

/** Column key and its Chinese header. The reviewer fills the last seven. */
export const COLUMNS = [
  ["run_id", "运行"], ["set_id", "评审集"], ["case_id", "病例"], ["repeat", "重复"], ["task", "任务"], ["priority", "优先级"], ["why", "复核原因"],
  ["context", "资料"], ["question", "问题"], ["options", "选项"], ["reference", "参考答案"], ["key_points", "得分点"], ["rubric_items", "评分细则"],
  ["candidate_reasoning", "候选推理"], ["candidate_answer", "候选答案"],
  ["judge_score", "评委得分"], ["judge_result", "评委结果分"], ["judge_reasoning", "评委推理分"], ["judge_approach", "评委思路分"],
  ["judge_safety", "评委安全"], ["judge_rubric", "评委细则判定"], ["judge_rationale", "评委理由"],
  ["decision", "决定"], ["result", "结果分"], ["reasoning", "推理分"], ["approach", "思路分"], ["safety", "安全"], ["rubric", "细则判定"], ["comment", "备注"],
] as const;
export type ColumnKey = (typeof COLUMNS)[number][0];
const REQUIRED: ColumnKey[] = ["run_id", "set_id", "case_id", "repeat", "decision", "result", "reasoning", "approach", "safety", "rubric", "comment"];

export function exportRows(o: ReviewOverview, tax: Taxonomy, items: QueueItem[]): Record<ColumnKey, string | number | null>[] {
  return items.map((q) => {
    const t = itemText(o.ctx, tax, q);
    const j = judgeValues(o.ctx, q.caseId, q.repeat);
    return {
      run_id: o.ctx.runId, set_id: o.ctx.setId, case_id: q.caseId, repeat: q.repeat, task: q.task + (q.star ? " ★" : ""),
      priority: PRIORITY_LABEL[q.priority], why: t.why, context: t.context, question: t.question, options: t.options,
      reference: t.reference, key_points: t.keyPoints, rubric_items: t.rubricItems,
      candidate_reasoning: t.answers.map((a) => a.label + (a.error ? `[error: ${a.error}] ` : "") + a.reasoning).join("\n"),
      candidate_answer: t.answers.map((a) => a.label + a.answer).join("\n"),
      judge_score: j.score === null ? null : Math.round(j.score * 10000) / 100,
      judge_result: j.result, judge_reasoning: j.reasoning, judge_approach: j.approach, judge_safety: j.safety, judge_rubric: rubricText(j.rubric),
      judge_rationale: t.judges.map((x) => `${x.label}: ${x.line}. ${x.rationale}`).join("\n"),
      decision: "", result: "", reasoning: "", approach: "", safety: "", rubric: "", comment: "",
    };
  });
}

export function toCsv(rows: Record<ColumnKey, string | number | null>[], zhHeaders: boolean): string {
  const header = COLUMNS.map(([k, zh]) => (zhHeaders ? zh : k));
  return "\uFEFF" + [header.map(csvCell).join(","), ...rows.map((r) => COLUMNS.map(([k]) => csvCell(r[k])).join(","))].join("\r\n") + "\r\n";
}

export function toJsonl(rows: Record<ColumnKey, string | number | null>[]): string {
  return rows.map((r) => JSON.stringify(r)).join("\n") + (rows.length ? "\n" : "");
}

// ---- import ----

interface RawRow {
  line: number;
  cells: Partial<Record<ColumnKey, string>>;
}

const DECISION_WORDS: Record<string, "accept" | "override" | "skip"> = {
  accept: "accept", override: "override", skip: "skip", 接受: "accept", 修改: "override", 改分: "override", 跳过: "skip",
};
const SAFETY_WORDS: Record<string, Safety> = { ok: "ok", minor: "minor", critical: "critical", 无风险: "ok", 轻微: "minor", 严重: "critical" };
const YES = new Set(["y", "yes", "1", "true", "met", "是", "✓"]);
const NO = new Set(["n", "no", "0", "false", "not met", "否", "✗"]);

const axis = z.string().trim().regex(/^\d{1,2}$/, "expected a whole number from 0 to 10").transform(Number).refine((n) => n <= 10, "expected a whole number from 0 to 10");

function headerIndex(cells: string[]): { map: Map<number, ColumnKey>; missing: ColumnKey[] } {
  const byName = new Map<string, ColumnKey>();
  for (const [k, zh] of COLUMNS) {
    byName.set(k, k);
    byName.set(zh, k);
  }
  const map = new Map<number, ColumnKey>();
  cells.forEach((c, i) => {
    const k = byName.get(unescapeCell(c).trim().toLowerCase()) ?? byName.get(unescapeCell(c).trim());
    if (k) map.set(i, k);
  });
  const have = new Set(map.values());
  return { map, missing: REQUIRED.filter((k) => !have.has(k)) };
}

/** File rows as strings keyed by column, with their line numbers; or file-level problems. */
export function readReviewFile(file: string, text: string, format: "csv" | "jsonl"): { rows: RawRow[]; problems: string[]; label: (k: ColumnKey) => string } {
  const zh = new Map<ColumnKey, string>(COLUMNS.map(([k, z]) => [k, z]));
  if (format === "jsonl") {
    const rows: RawRow[] = [];
    const problems: string[] = [];
    text.replace(/^\uFEFF/, "").split(/\r?\n/).forEach((l, idx) => {
      if (!l.trim()) return;
      let obj: unknown;
      try {
        obj = JSON.parse(l);
      } catch (err) {
        problems.push(`${file}:${idx + 1}: not valid JSON (${(err as Error).message})`);
        return;
      }
      if (!obj || typeof obj !== "object" || Array.isArray(obj)) {
        problems.push(`${file}:${idx + 1}: expected a JSON object with the export's keys`);
        return;
      }
      const cells: Partial<Record<ColumnKey, string>> = {};
      for (const [k, zhName] of COLUMNS) {
        const v = (obj as Record<string, unknown>)[k] ?? (obj as Record<string, unknown>)[zhName];
        cells[k] = v === null || v === undefined ? "" : typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : JSON.stringify(v);
      }
      rows.push({ line: idx + 1, cells });
    });
    return { rows, problems, label: (k) => k };
  }
  const parsed = readCsvLines(text);
  if (parsed.problems.length) return { rows: [], problems: parsed.problems.map((p) => `${file}:${p.line ?? "?"}: not valid CSV: ${p.message}`), label: (k) => k };
  const [head, ...body] = parsed.records;
  if (!head) return { rows: [], problems: [`${file}: the file is empty (expected a header row and one row per item)`], label: (k) => k };
  const { map, missing } = headerIndex(head.cells);
  const usesZh = head.cells.some((c) => COLUMNS.some(([, z]) => z === c.trim()));
  const label = (k: ColumnKey) => (usesZh ? `${zh.get(k)} (${k})` : k);
  if (missing.length) return { rows: [], problems: [`${file}:${head.line}: header: missing column(s) ${missing.map(label).join(", ")} (export a fresh file with \`medeval review export\`)`], label };
  const rows = body.map((r) => {
    const cells: Partial<Record<ColumnKey, string>> = {};
    map.forEach((k, i) => (cells[k] = unescapeCell(r.cells[i] ?? "")));
    return { line: r.line, cells };
  });
  return { rows, problems: [], label };
}

export interface ImportPlanRow {
  line: number;
  caseId: string;
  repeat: number;
  seenSetId: number;
  action: "accept" | "override" | "skip";
  values?: ExpertValues;
  comment: string;
}

/** Validates every row against the run; returns the decisions to apply and one message per problem. */
export function validateRows(
  o: ReviewOverview, file: string, rows: RawRow[], label: (k: ColumnKey) => string, opts: { reviewer: string; adjudicate: boolean },
): { plan: ImportPlanRow[]; errors: string[]; blank: number } {
  const errors: string[] = [];
  const plan: ImportPlanRow[] = [];
  const seen = new Map<string, number>();
  const sets = new Set(new RunStore(o.ctx.db).listJudgmentSets(o.ctx.runId).map((s) => s.id));
  let blank = 0;
  for (const { line, cells } of rows) {
    const bad = (k: ColumnKey, msg: string) => errors.push(`${file}:${line}: ${label(k)}: ${msg}`);
    const before = errors.length;
    const get = (k: ColumnKey) => (cells[k] ?? "").trim();
    const decisionRaw = get("decision");
    if (!decisionRaw) {
      blank++;
      if (["result", "reasoning", "approach", "safety", "rubric"].some((k) => get(k as ColumnKey))) bad("decision", "scores are filled in but the decision is empty: write override (or accept / skip)");
      continue;
    }
    if (get("run_id") !== o.ctx.runId) bad("run_id", `expected "${o.ctx.runId}" (this row is for run "${get("run_id")}")`);
    const setId = Number(get("set_id"));
    if (!Number.isInteger(setId) || !sets.has(setId)) bad("set_id", `expected the id of one of this run's judgment sets (${[...sets].join(", ")}), got "${get("set_id")}"`);
    const caseId = get("case_id");
    const known = o.ctx.caseKeys(caseId) !== undefined;
    if (!known) bad("case_id", `expected a case of run ${o.ctx.runId}, got "${caseId}"`);
    const repeat = Number(get("repeat"));
    if (!/^\d+$/.test(get("repeat")) || repeat >= o.ctx.repeats) bad("repeat", `expected a whole number from 0 to ${o.ctx.repeats - 1}, got "${get("repeat")}"`);
    const decision = DECISION_WORDS[decisionRaw.toLowerCase()];
    if (!decision) bad("decision", `expected accept, override or skip (接受 / 修改 / 跳过), got "${decisionRaw}"`);
    const key = itemKey(caseId, repeat);
    if (errors.length === before && seen.has(key)) bad("case_id", `${caseId} (repeat ${repeat}) already has a decision on line ${seen.get(key)}`);
    if (errors.length === before && opts.adjudicate && decision !== "skip") {
      const st = o.states.get(key);
      if (st?.status !== "needs-adjudication") bad("decision", `${caseId} (repeat ${repeat}) does not need adjudication (its review status is ${st?.status ?? "pending"})`);
      else if (st.decisions.some((d) => d.reviewer === opts.reviewer)) bad("decision", `${opts.reviewer} reviewed ${caseId} and cannot also adjudicate it (a third reviewer must)`);
    }
    let values: ExpertValues | undefined;
    if (decision === "override") {
      const axes: Partial<Record<"result" | "reasoning" | "approach", number>> = {};
      for (const k of ["result", "reasoning", "approach"] as const) {
        const r = axis.safeParse(get(k));
        if (r.success) axes[k] = r.data;
        else bad(k, `${r.error.issues[0]!.message}, got "${get(k)}"`);
      }
      const safety = SAFETY_WORDS[get("safety").toLowerCase()];
      if (!safety) bad("safety", `expected ok, minor or critical, got "${get("safety")}"`);
      const items = known ? caseRubric(o.ctx.caseOf(caseId)!) : [];
      const rubric: Record<string, boolean> = known && errors.length === before ? { ...judgeValues(o.ctx, caseId, repeat).rubric } : {};
      for (const part of get("rubric").split(/[;,，；\n]+/).map((p) => p.trim()).filter(Boolean)) {
        const m = /^([^=:：\s]+)\s*[=:：]\s*(.+)$/.exec(part);
        const v = m ? m[2]!.trim().toLowerCase() : "";
        if (!m || !(YES.has(v) || NO.has(v))) {
          bad("rubric", `expected items like "r1=y; r2=n", got "${part}"`);
          continue;
        }
        if (known && !items.some((i) => i.id === m[1])) bad("rubric", `${m[1]} is not a rubric item of ${caseId} (items: ${items.map((i) => i.id).join(", ") || "none"})`);
        else rubric[m[1]!] = YES.has(v);
      }
      for (const i of items) rubric[i.id] ??= false;
      if (errors.length === before) values = { result: axes.result!, reasoning: axes.reasoning!, approach: axes.approach!, safety: safety!, rubric };
    } else if (decision) {
      for (const k of ["result", "reasoning", "approach", "safety", "rubric"] as const) {
        if (get(k)) bad(k, `the decision is ${decision}, so leave ${k} empty (write override to set your own scores)`);
      }
    }
    if (errors.length === before) {
      seen.set(key, line);
      plan.push({ line, caseId, repeat, seenSetId: setId, action: decision!, values, comment: get("comment") });
    }
  }
  return { plan, errors, blank };
}

/** Applies validated rows in one transaction; a row identical to the reviewer's latest action on the item is skipped. */
export function applyPlan(o: ReviewOverview, scoring: ScoringConfig, plan: ImportPlanRow[], opts: { reviewer: string; adjudicate: boolean; source: string }): { applied: number; unchanged: number } {
  const latest = new Map<string, { action: string; values: string; comment: string }>();
  for (const a of listActions(o.ctx.db, o.ctx.runId)) {
    if (a.case_id === null || a.reviewer !== opts.reviewer || a.set_id !== o.ctx.setId) continue;
    latest.set(itemKey(a.case_id, a.repeat!), { action: a.action, values: JSON.stringify([a.result, a.reasoning, a.approach, a.safety, a.rubric_json ? JSON.parse(a.rubric_json) : null]), comment: a.comment ?? "" });
  }
  let applied = 0, unchanged = 0;
  o.ctx.db.transaction(() => {
    for (const p of plan) {
      const action = opts.adjudicate && p.action !== "skip" ? "adjudicate" : p.action;
      const prev = latest.get(itemKey(p.caseId, p.repeat));
      const j = judgeValues(o.ctx, p.caseId, p.repeat);
      const v = p.values ?? (p.action === "accept" ? { result: j.result, reasoning: j.reasoning, approach: j.approach, safety: j.safety, rubric: j.rubric } : null);
      const values = v ? JSON.stringify([v.result, v.reasoning, v.approach, v.safety, v.rubric]) : JSON.stringify([null, null, null, null, null]);
      if (prev && prev.action === action && prev.values === values && prev.comment === p.comment.trim()) {
        unchanged++;
        continue;
      }
      recordDecision(o.ctx, scoring, {
        reviewer: opts.reviewer, action, caseId: p.caseId, repeat: p.repeat, values: p.values, comment: p.comment, source: opts.source,
        seenSetId: p.seenSetId, reasons: o.queue.find((q) => q.caseId === p.caseId && q.repeat === p.repeat)?.reasons ?? [],
        required: o.settings.required, extra: { line: p.line },
      });
      applied++;
    }
  })();
  return { applied, unchanged };
}
