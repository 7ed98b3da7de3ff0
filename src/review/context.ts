// Everything review needs about one run and judgment set: flags read once; case keys, scores, case texts, answers
// and per-judge verdicts read by index when an item is looked at, or a page at a time when every case is walked, so
// a 100,000-case run is never held in memory.
import type { DB } from "../store/db.js";
import { RunStore, type CaseKeys, type CaseScores, type FlagRow, type JudgmentRow, type LightScore, type ResponseRow } from "../store/runStore.js";
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
  /** A planned case's task and dimension (undefined if not planned): looked up by index, nothing per case is held. */
  caseKeys(caseId: string): CaseKeys | undefined;
  /** A planned case in full, read from the database the first time it is asked for (undefined if not planned). */
  caseOf(caseId: string): Case | undefined;
  /** One item's score row in the set, light (detail only when unscored). */
  scoreOf(caseId: string, repeat: number): LightScore | undefined;
  /** One case's score rows in the set, light, by repeat. */
  scoresOf(caseId: string): LightScore[];
  /** Every planned case in case-id order with its score rows, a page at a time: walk it, do not keep it. */
  eachCase(): Generator<CaseScores>;
  /** Flags by item key (a group's variant flags are gathered under their case). */
  flags: Map<string, FlagRow[]>;
  /** One unit's stored answer (by index, read when asked: a large run is never loaded whole). */
  responseOf(caseId: string, variant: string, repeat: number): ResponseRow | null;
  /** Every judge's judgment of a response in this set. */
  judgmentsOf(responseId: number): JudgmentRow[];
  /** A score row's full detail (per-item rubric verdicts); `scoreOf` has it only for unscored items. */
  scoreDetail(caseId: string, repeat: number): string;
}

export function hasTable(db: DB, name: string): boolean {
  return Boolean(db.prepare("SELECT 1 FROM sqlite_master WHERE name = ? AND type IN ('table', 'view')").get(name));
}

export function loadContext(db: DB, runId: string, setId: number): ReviewContext {
  const store = new RunStore(db);
  const run = store.getRun(runId);
  if (!run) throw new UserError(`no run "${runId}" in this database (list them with \`medeval runs\`)`);
  const repeats = (JSON.parse(run.config_json) as { repeats?: number }).repeats ?? 1;
  // Nothing per case is held: at 100,000 cases maps of case keys and score rows were ~60 MB of a report's peak.
  const parsed = new Map<string, Case>();
  const caseOf = (caseId: string): Case | undefined => {
    let c = parsed.get(caseId);
    if (!c) {
      const row = store.getCase(runId, caseId);
      if (!row) return undefined;
      parsed.set(caseId, (c = RunStore.parseCase(row)));
    }
    return c;
  };
  const flags = new Map<string, FlagRow[]>();
  for (const f of store.listFlags(runId, setId)) {
    const k = itemKey(f.case_id, f.repeat);
    const list = flags.get(k);
    if (list) list.push(f);
    else flags.set(k, [f]);
  }
  const responseOf = (caseId: string, variant: string, repeat: number) =>
    store.caseResponses(runId, caseId).find((r) => r.variant === variant && r.repeat === repeat) ?? null;
  const detailStmt = db.prepare("SELECT detail_json FROM scores WHERE set_id = ? AND case_id = ? AND repeat = ?");
  const scoreDetail = (caseId: string, repeat: number) => (detailStmt.get(setId, caseId, repeat) as { detail_json: string } | undefined)?.detail_json ?? "{}";
  return {
    db, runId, setId, repeats, caseOf, flags, responseOf, scoreDetail,
    caseKeys: (caseId) => store.caseKeys(runId, caseId),
    scoreOf: (caseId, repeat) => store.scoreOf(setId, caseId, repeat),
    scoresOf: (caseId) => store.caseScores(setId, caseId),
    eachCase: () => store.eachCaseScores(runId, setId),
    judgmentsOf: (id) => store.responseJudgments(setId, id),
  };
}

/** The answers (one per variant; one unit for non-group cases) of an item, each with its judges' verdicts. */
export function unitViews(ctx: ReviewContext, caseId: string, repeat: number): UnitView[] {
  const c = ctx.caseOf(caseId);
  if (!c) return [];
  const variants = c.format === "group" ? c.variants.map((v) => v.id) : [""];
  return variants.map((variant) => {
    const response = ctx.responseOf(caseId, variant, repeat);
    const judges = (response ? ctx.judgmentsOf(response.id) : []).map((j) => ({
      judge: j.judge, status: j.status, error: j.error,
      reply: j.status === "ok" && j.verdict_json ? (JSON.parse(j.verdict_json) as JudgeReply) : null,
    }));
    return { variant, response, judges };
  });
}
