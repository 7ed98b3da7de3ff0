// Recording one reviewer decision on one item: the values set (or accepted), the score they give, what was shown.
import type { ScoringConfig } from "../scoring/config.js";
import { appendAction, type Safety } from "./actions.js";
import type { ReviewContext } from "./context.js";
import { expertCaseScore, judgeValues, type ExpertValues } from "./score.js";
import type { QueueReason } from "./queue.js";

export interface DecisionInput {
  reviewer: string;
  action: "accept" | "override" | "skip" | "adjudicate";
  caseId: string;
  repeat: number;
  /** For override and adjudicate: the expert's values. Absent on adjudicate = adopt the judge's scores. */
  values?: ExpertValues;
  comment?: string;
  source: string;
  seenSetId?: number;
  reasons?: QueueReason[];
  required: number;
  extra?: Record<string, unknown>;
}

export function recordDecision(ctx: ReviewContext, scoring: ScoringConfig, d: DecisionInput): number {
  const judge = judgeValues(ctx, d.caseId, d.repeat);
  const base = {
    run_id: ctx.runId, set_id: ctx.setId, case_id: d.caseId, repeat: d.repeat, reviewer: d.reviewer, action: d.action,
    comment: d.comment ?? null, seen_set_id: d.seenSetId ?? ctx.setId, source: d.source,
  };
  const detail = { required: d.required, reasons: d.reasons ?? [], judgeScore: judge.score, ...(d.extra ?? {}) };
  if (d.action === "skip") return appendAction(ctx.db, { ...base, detail });
  if (d.action === "accept" || !d.values) {
    // Accepting records the judge's values as what the reviewer agreed to; the score stays the judge's.
    return appendAction(ctx.db, {
      ...base, result: judge.result, reasoning: judge.reasoning, approach: judge.approach, safety: judge.safety as Safety | null,
      rubric: judge.rubric, score: judge.score, detail: { ...detail, basis: "judge" },
    });
  }
  const v = d.values;
  return appendAction(ctx.db, {
    ...base, result: v.result, reasoning: v.reasoning, approach: v.approach, safety: v.safety, rubric: v.rubric,
    score: expertCaseScore(ctx, d.caseId, d.repeat, v, scoring), detail: { ...detail, basis: "values" },
  });
}
