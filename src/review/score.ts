// An expert's axes, safety and rubric verdicts turned into a case score with the same weights and code as the judge's.
import type { Case } from "../dataset/schema.js";
import type { ScoringConfig } from "../scoring/config.js";
import type { AggregatedJudgment } from "../judge/aggregate.js";
import { groupScore, scoreUnit } from "../scoring/caseScore.js";
import { rubricScore, rubricWithIds } from "../scoring/rubric.js";
import { unitsOf } from "../runner/prompt.js";
import type { ReviewContext } from "./context.js";
import type { Safety } from "./actions.js";

export interface ExpertValues {
  result: number;
  reasoning: number;
  approach: number;
  safety: Safety;
  /** Verdict per rubric item id (met = true). */
  rubric: Record<string, boolean>;
}

/** What the judge (jury) gave an item, on the scales an expert uses: axes 0–10, rubric verdicts by item id. */
export interface JudgeValues {
  score: number | null;
  status: "scored" | "unscored";
  result: number | null;
  reasoning: number | null;
  approach: number | null;
  safety: Safety | null;
  rubric: Record<string, boolean>;
}

export function judgeValues(ctx: ReviewContext, caseId: string, repeat: number): JudgeValues {
  const s = ctx.scoreOf(caseId, repeat);
  if (!s) return { score: null, status: "unscored", result: null, reasoning: null, approach: null, safety: null, rubric: {} };
  const detail = JSON.parse(ctx.scoreDetail(caseId, repeat)) as { unit?: { rubricVerdicts?: Record<string, boolean> }; variants?: Record<string, { rubricVerdicts?: Record<string, boolean> }> };
  const rubric = detail.unit?.rubricVerdicts ?? Object.values(detail.variants ?? {})[0]?.rubricVerdicts ?? {};
  const ten = (x: number | null) => (x === null ? null : Math.round(x * 100) / 10);
  return {
    score: s.score, status: s.status, result: ten(s.result), reasoning: ten(s.reasoning), approach: ten(s.approach),
    safety: (s.safety as Safety | null) ?? null, rubric,
  };
}

/** The case's rubric items with their ids (r1, r2… where the case gives none). */
export function caseRubric(c: Case): { id: string; criterion: string; points: number }[] {
  return rubricWithIds(c.reference.rubric);
}

/**
 * The case score the expert's values give: every unit (a group's variants) is scored by scoreUnit with the expert
 * standing in for the judge, then combined exactly as the scoring stage does (groupScore for groups).
 */
export function expertCaseScore(ctx: ReviewContext, caseId: string, repeat: number, v: ExpertValues, cfg: ScoringConfig): number | null {
  const c = ctx.caseOf(caseId);
  if (!c) return null;
  const items = caseRubric(c);
  const met = new Map(items.map((i) => [i.id, v.rubric[i.id] ?? false]));
  const judgment: AggregatedJudgment = {
    judges: ["expert"], result: v.result, reasoning: v.reasoning, approach: v.approach,
    rubric: rubricScore(items, met), rubricVerdicts: Object.fromEntries(met), safety: v.safety,
    why: { result: "", reasoning: "", approach: "", safety: "" },
  };
  const units = unitsOf(c, repeat + 1).filter((u) => u.repeat === repeat);
  const scores: number[] = [];
  for (const u of units) {
    const resp = ctx.responseOf(caseId, u.variant, repeat);
    const s = scoreUnit(c, u.format, u.input, resp?.status === "ok" ? resp.answer ?? "" : "", judgment, false, cfg);
    if (s.score === null) return null;
    scores.push(s.score);
  }
  if (!scores.length) return null;
  return c.format === "group" ? groupScore(scores, cfg).score : scores[0]!;
}
