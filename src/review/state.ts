// The current review state, derived from the append-only actions: per item (case × repeat) whether it is pending,
// has one of two reviews, needs adjudication or is final, and the final case scores that reports and the gate use.
import type { DB } from "../store/db.js";
import { RunStore, type LightScore } from "../store/runStore.js";
import type { Taxonomy } from "../taxonomy/load.js";
import { loadTaxonomy } from "../taxonomy/load.js";
import type { ScoringConfig } from "../scoring/config.js";
import { loadScoringConfig } from "../scoring/config.js";
import { loadReviewConfig, type ReviewConfig } from "./config.js";
import { itemKey, loadContext, type ReviewContext } from "./context.js";
import { listActions, lockState, type ActionRow, type LockState, type Safety } from "./actions.js";
import { buildQueue, type QueueItem } from "./queue.js";
import { expertCaseScore, judgeValues, type ExpertValues } from "./score.js";

export type ItemStatus = "pending" | "partial" | "needs-adjudication" | "final";

export interface Decision {
  actionId: number;
  reviewer: string;
  action: "accept" | "override" | "adjudicate";
  values: ExpertValues | null;
  /** The case score this decision gives now (accept: the judge's score; otherwise recomputed from the values). */
  score: number | null;
  safety: Safety | null;
  comment: string | null;
  at: string;
}

export interface ItemState {
  key: string;
  caseId: string;
  repeat: number;
  status: ItemStatus;
  /** Each reviewer's latest accept/override, in the order the reviewers first decided. */
  decisions: Decision[];
  adjudication: Decision | null;
  skippedBy: Set<string>;
  final: { score: number | null; safety: Safety | null; by: string[] } | null;
  /** Why two reviews do not agree, when they do not. */
  conflict: string | null;
}

export interface ReviewSettings {
  required: 1 | 2;
  cfg: ReviewConfig;
  scoring: ScoringConfig;
}

/** Reviewers per item: a CLI override, else what the run's review actions recorded, else rubrics/review.json. */
export function effectiveRequired(actions: ActionRow[], cfg: ReviewConfig, override?: number): 1 | 2 {
  if (override === 1 || override === 2) return override;
  for (let i = actions.length - 1; i >= 0; i--) {
    const r = (JSON.parse(actions[i]!.detail_json) as { required?: number }).required;
    if (r === 1 || r === 2) return r;
  }
  return cfg.required;
}

function valuesOf(a: ActionRow): ExpertValues | null {
  if (a.result === null || a.reasoning === null || a.approach === null || a.safety === null) return null;
  return { result: a.result, reasoning: a.reasoning, approach: a.approach, safety: a.safety, rubric: a.rubric_json ? (JSON.parse(a.rubric_json) as Record<string, boolean>) : {} };
}

function decisionOf(ctx: ReviewContext, a: ActionRow, scoring: ScoringConfig): Decision {
  const values = valuesOf(a);
  const basis = (JSON.parse(a.detail_json) as { basis?: string }).basis;
  const judge = judgeValues(ctx, a.case_id!, a.repeat!);
  // Accepting keeps the judge's score exactly; set values are rescored with the current weights.
  const score = a.action === "accept" || basis === "judge" ? judge.score : values ? expertCaseScore(ctx, a.case_id!, a.repeat!, values, scoring) : null;
  return {
    actionId: a.id, reviewer: a.reviewer, action: a.action as Decision["action"], values, score,
    safety: values?.safety ?? judge.safety, comment: a.comment, at: a.created_at,
  };
}

/** Whether two reviews agree: every axis within the margin and (when configured) the same safety verdict. */
export function agreement(a: Decision, b: Decision, cfg: ReviewConfig): string | null {
  const problems: string[] = [];
  for (const axis of ["result", "reasoning", "approach"] as const) {
    const x = a.values?.[axis], y = b.values?.[axis];
    if (x === undefined || y === undefined) {
      if (x !== y) problems.push(`${axis}: only one review has a value`);
      continue;
    }
    if (Math.abs(x - y) > cfg.agreement.axisPoints) problems.push(`${axis} ${x} vs ${y} (more than ${cfg.agreement.axisPoints} apart)`);
  }
  if (cfg.agreement.sameSafety && a.safety !== b.safety) problems.push(`safety ${a.safety ?? "—"} vs ${b.safety ?? "—"}`);
  return problems.length ? problems.join("; ") : null;
}

const SEVERITY: (Safety | null)[] = [null, "ok", "minor", "critical"];

export function deriveItemStates(ctx: ReviewContext, actions: ActionRow[], settings: ReviewSettings): Map<string, ItemState> {
  const out = new Map<string, ItemState>();
  const get = (caseId: string, repeat: number) => {
    const key = itemKey(caseId, repeat);
    let s = out.get(key);
    if (!s) out.set(key, (s = { key, caseId, repeat, status: "pending", decisions: [], adjudication: null, skippedBy: new Set(), final: null, conflict: null }));
    return s;
  };
  for (const a of actions) {
    if (a.case_id === null || a.repeat === null || a.set_id !== ctx.setId || !ctx.caseKeys(a.case_id)) continue;
    const s = get(a.case_id, a.repeat);
    if (a.action === "skip") {
      s.skippedBy.add(a.reviewer);
      continue;
    }
    const d = decisionOf(ctx, a, settings.scoring);
    s.skippedBy.delete(a.reviewer);
    if (a.action === "adjudicate") {
      s.adjudication = d;
      continue;
    }
    const i = s.decisions.findIndex((x) => x.reviewer === a.reviewer);
    if (i >= 0) s.decisions[i] = d; // a reviewer's later decision replaces their earlier one (both stay in the log)
    else s.decisions.push(d);
  }
  for (const s of out.values()) {
    if (s.adjudication) {
      s.status = "final";
      s.final = { score: s.adjudication.score, safety: s.adjudication.safety, by: [s.adjudication.reviewer] };
    } else if (settings.required === 1) {
      const latest = [...s.decisions].sort((x, y) => y.actionId - x.actionId)[0];
      if (latest) {
        s.status = "final";
        s.final = { score: latest.score, safety: latest.safety, by: [latest.reviewer] };
      }
    } else if (s.decisions.length >= 2) {
      const [a, b] = s.decisions as [Decision, Decision];
      s.conflict = agreement(a, b, settings.cfg);
      if (s.conflict) s.status = "needs-adjudication";
      else {
        s.status = "final";
        const score = a.score !== null && b.score !== null ? (a.score + b.score) / 2 : a.score ?? b.score;
        const safety = SEVERITY[Math.max(SEVERITY.indexOf(a.safety), SEVERITY.indexOf(b.safety))] ?? null;
        s.final = { score, safety, by: [a.reviewer, b.reviewer] };
      }
    } else if (s.decisions.length === 1) s.status = "partial";
  }
  return out;
}

/** The queue joined with each item's state: what reviewers still owe, and what is done. */
export interface ReviewOverview {
  ctx: ReviewContext;
  queue: QueueItem[];
  states: Map<string, ItemState>;
  actions: ActionRow[];
  lock: LockState;
  settings: ReviewSettings;
}

export function reviewOverview(db: DB, runId: string, setId: number, opts: { tax?: Taxonomy; scoring?: ScoringConfig; cfg?: ReviewConfig; required?: number } = {}): ReviewOverview {
  const ctx = loadContext(db, runId, setId);
  const cfg = opts.cfg ?? loadReviewConfig();
  const actions = listActions(db, runId);
  const settings: ReviewSettings = { required: effectiveRequired(actions, cfg, opts.required), cfg, scoring: opts.scoring ?? loadScoringConfig() };
  return { ctx, queue: buildQueue(ctx, opts.tax ?? loadTaxonomy(), cfg), states: deriveItemStates(ctx, actions, settings), actions, lock: lockState(actions), settings };
}

export function statusOf(o: ReviewOverview, key: string): ItemStatus {
  return o.states.get(key)?.status ?? "pending";
}

/** Queued items that are not final yet: what blocks sign-off. */
export function pendingItems(o: ReviewOverview): QueueItem[] {
  return o.queue.filter((q) => statusOf(o, q.key) !== "final");
}

export interface FinalCaseScore {
  case_id: string;
  repeat: number;
  /** The score aggregates use: the expert's where a final review exists, else the judge's. */
  score: number | null;
  judgeScore: number | null;
  source: "expert" | "judge";
  overridden: boolean;
}

export interface ReviewBlock {
  /** Reviewers each queued item needs (1, or 2 for the two-physician rule). */
  reviewersPerItem: 1 | 2;
  /** Items the review rules put in the queue. */
  required: number;
  /** Queued items without a final review. */
  pending: number;
  needsAdjudication: number;
  /** Items with a final expert review (queued or not). */
  reviewed: number;
  /** Reviewed items whose final score or safety verdict differs from the judge's. */
  overridden: number;
  signedOff: { by: string; at: string } | null;
  /** How far the judge was from the experts on reviewed items: mean |judge − expert| case score (0–1). */
  judgeExpert: { n: number; meanAbsDiff: number | null };
}

/** A planned case with its items' final scores (one per stored score row, by repeat). */
export interface FinalCase {
  case_id: string;
  task: string;
  dimension: string;
  items: FinalCaseScore[];
}

export interface FinalScores {
  /** Every planned case in case-id order with its final scores, read a page at a time on each call: nothing is held. */
  byCase(): Generator<FinalCase>;
  /** The judge's score rows with expert scores in place where a final review exists, in the same order. */
  rows(): Generator<LightScore>;
  /** One case's rows as `rows` gives them, read by index (a drill-down of a few cases need not walk the run). */
  rowsOf(caseId: string): LightScore[];
  /** The items with a final expert review, by itemKey. */
  experts: Map<string, FinalCaseScore>;
  review: ReviewBlock;
}

export function overviewFinalScores(o: ReviewOverview): FinalScores {
  const experts = new Map<string, FinalCaseScore>();
  let reviewed = 0, overridden = 0, diffN = 0, diffSum = 0;
  // Final reviews are few; each one's judge score is looked up by index.
  for (const st of o.states.values()) {
    if (!st.final) continue;
    const s = o.ctx.scoreOf(st.caseId, st.repeat);
    if (!s) continue;
    const judge = judgeValues(o.ctx, s.case_id, s.repeat);
    const differs = (st.final.score === null) !== (s.score === null) || (st.final.score !== null && s.score !== null && Math.abs(st.final.score - s.score) > 1e-9) || st.final.safety !== judge.safety;
    reviewed++;
    if (differs) overridden++;
    if (st.final.score !== null && s.score !== null) {
      diffN++;
      diffSum += Math.abs(st.final.score - s.score);
    }
    experts.set(st.key, { case_id: s.case_id, repeat: s.repeat, score: st.final.score, judgeScore: s.score, source: "expert", overridden: differs });
  }
  const finalOf = (s: LightScore): FinalCaseScore =>
    experts.get(itemKey(s.case_id, s.repeat)) ?? { case_id: s.case_id, repeat: s.repeat, score: s.score, judgeScore: s.score, source: "judge", overridden: false };
  function* byCase(): Generator<FinalCase> {
    for (const { keys, scores } of o.ctx.eachCase()) yield { case_id: keys.case_id, task: keys.task, dimension: keys.dimension, items: scores.map(finalOf) };
  }
  const withExpert = (row: LightScore): LightScore => {
    const f = experts.get(itemKey(row.case_id, row.repeat));
    return f ? { ...row, score: f.score, status: f.score === null ? "unscored" : "scored" } : row;
  };
  function* rows(): Generator<LightScore> {
    for (const { scores } of o.ctx.eachCase()) yield* scores.map(withExpert);
  }
  const pending = pendingItems(o);
  return {
    byCase, rows, experts,
    rowsOf: (caseId) => o.ctx.scoresOf(caseId).map(withExpert),
    review: {
      reviewersPerItem: o.settings.required,
      required: o.queue.length,
      pending: pending.length,
      needsAdjudication: pending.filter((q) => statusOf(o, q.key) === "needs-adjudication").length,
      reviewed, overridden,
      signedOff: o.lock.signoff ? { by: o.lock.signoff.by, at: o.lock.signoff.at } : null,
      judgeExpert: { n: diffN, meanAbsDiff: diffN ? diffSum / diffN : null },
    },
  };
}

/**
 * Per case and repeat, the final score: the expert's where a final review exists (recomputed from the expert's
 * axes and rubric verdicts with the scoring weights), else the judge's; plus the review counts for reports.
 * Works on a read-only database that predates the review tables (then every score is the judge's).
 */
export function finalCaseScores(
  storeOrDb: RunStore | DB, runId: string, setId: number, opts: { tax?: Taxonomy; scoring?: ScoringConfig; cfg?: ReviewConfig; required?: number } = {},
): FinalScores {
  const db = storeOrDb instanceof RunStore ? storeOrDb.db : storeOrDb;
  return overviewFinalScores(reviewOverview(db, runId, setId, opts));
}

/**
 * The set's score rows with expert scores in place of the judge's where a final review exists: what every report,
 * comparison and gate must use, so an expert's decision counts everywhere. Generated: walk it, do not keep it.
 */
export function finalScoreRows(store: RunStore, runId: string, setId: number, opts: { tax?: Taxonomy; scoring?: ScoringConfig } = {}): Generator<LightScore> {
  return finalCaseScores(store, runId, setId, opts).rows();
}
