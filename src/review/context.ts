// Everything review needs about one run and judgment set, read once: cases, answers, per-judge verdicts, scores, flags.
import type { DB } from "../store/db.js";
import { RunStore, type CaseRow, type FlagRow, type JudgmentRow, type ResponseRow, type ScoreRow } from "../store/runStore.js";
import type { Case } from "../dataset/schema.js";
import type { JudgeReply } from "../judge/schema.js";
import { UserError } from "../util/errors.js";

/** An item is one case at one repeat: what an expert reviews and what gets a final score. */
export function itemKey(caseId: string, repeat: number): string {
  return `${caseId}\u0000${repeat}`;
}

export interface JudgeView {
  judge: string;
  status: "ok" | "failed";
  reply: JudgeReply | null;
  error: string | null;
}

export interface UnitView {
  variant: string;
  response: ResponseRow | null;
  judges: JudgeView[];
}

export interface ReviewContext {
  db: DB;
  runId: string;
  setId: number;
  repeats: number;
  cases: Map<string, { row: CaseRow; c: Case }>;
  /** Score rows of the set by item key. */
  scores: Map<string, ScoreRow>;
  /** Flags by item key (a group's variant flags are gathered under their case). */
  flags: Map<string, FlagRow[]>;
  responses: ResponseRow[];
  judgmentsByResponse: Map<number, JudgmentRow[]>;
}

export function hasTable(db: DB, name: string): boolean {
  return Boolean(db.prepare("SELECT 1 FROM sqlite_master WHERE name = ? AND type IN ('table', 'view')").get(name));
}

export function loadContext(db: DB, runId: string, setId: number): ReviewContext {
  const store = new RunStore(db);
  const run = store.getRun(runId);
  if (!run) throw new UserError(`no run "${runId}" in this database (list them with \`medeval runs\`)`);
  const repeats = (JSON.parse(run.config_json) as { repeats?: number }).repeats ?? 1;
  const cases = new Map(store.listCases(runId).map((row) => [row.case_id, { row, c: RunStore.parseCase(row) }]));
  const scores = new Map(store.listScores(setId).map((s) => [itemKey(s.case_id, s.repeat), s]));
  const flags = new Map<string, FlagRow[]>();
  for (const f of store.listFlags(runId, setId)) {
    const k = itemKey(f.case_id, f.repeat);
    const list = flags.get(k);
    if (list) list.push(f);
    else flags.set(k, [f]);
  }
  const judgmentsByResponse = new Map<number, JudgmentRow[]>();
  for (const j of store.listJudgments(setId)) {
    const list = judgmentsByResponse.get(j.response_id);
    if (list) list.push(j);
    else judgmentsByResponse.set(j.response_id, [j]);
  }
  return { db, runId, setId, repeats, cases, scores, flags, responses: store.listResponses(runId), judgmentsByResponse };
}

/** The answers (one per variant; one unit for non-group cases) of an item, each with its judges' verdicts. */
export function unitViews(ctx: ReviewContext, caseId: string, repeat: number): UnitView[] {
  const entry = ctx.cases.get(caseId);
  if (!entry) return [];
  const variants = entry.c.format === "group" ? entry.c.variants.map((v) => v.id) : [""];
  return variants.map((variant) => {
    const response = ctx.responses.find((r) => r.case_id === caseId && r.variant === variant && r.repeat === repeat) ?? null;
    const judges = (response ? ctx.judgmentsByResponse.get(response.id) ?? [] : []).map((j) => ({
      judge: j.judge, status: j.status, error: j.error,
      reply: j.status === "ok" && j.verdict_json ? (JSON.parse(j.verdict_json) as JudgeReply) : null,
    }));
    return { variant, response, judges };
  });
}
