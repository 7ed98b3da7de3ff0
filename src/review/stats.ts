// Agreement between the two reviewers of each item (weighted κ per axis and for safety), and between the judge and
// the final expert verdict. The κ itself is src/stats/agreement.ts weightedKappa (shared with judge calibration).
import { weightedKappa } from "../stats/agreement.js";
import type { ReviewOverview, ItemStatus } from "./state.js";
import { statusOf } from "./state.js";
import { judgeValues } from "./score.js";

const AXES = ["result", "reasoning", "approach"] as const;
const SCALE = Array.from({ length: 11 }, (_, i) => i);
const SAFETY = ["ok", "minor", "critical"] as const;

export interface KappaBlock {
  n: number;
  /** Quadratic-weighted κ per axis (0–10, rounded to whole points); null where undefined (too few items, no spread). */
  axes: Record<(typeof AXES)[number], number | null>;
  /** Linear-weighted κ of ok < minor < critical. */
  safety: number | null;
}

export interface ReviewStats {
  runId: string;
  setId: number;
  reviewersPerItem: number;
  queued: number;
  byStatus: Record<ItemStatus, number>;
  byReviewer: Record<string, { decisions: number; overrides: number; skips: number; adjudications: number }>;
  /** Items with two reviewers: share within the agreement margin, and weighted κ between first and second reviewer. */
  interReviewer: KappaBlock & { agreed: number };
  /** Final expert verdicts against the judge's: κ per axis and the mean absolute case-score difference. */
  judgeVsExpert: KappaBlock & { meanAbsScoreDiff: number | null };
}

function kappas(pairs: { a: Record<string, number | string | null>; b: Record<string, number | string | null> }[]): KappaBlock {
  const axes = {} as KappaBlock["axes"];
  for (const ax of AXES) {
    const ps = pairs.filter((p) => typeof p.a[ax] === "number" && typeof p.b[ax] === "number");
    axes[ax] = ps.length ? weightedKappa(ps.map((p) => Math.round(p.a[ax] as number)), ps.map((p) => Math.round(p.b[ax] as number)), SCALE, "quadratic") : null;
  }
  const ss = pairs.filter((p) => typeof p.a.safety === "string" && typeof p.b.safety === "string");
  const idx = (s: unknown) => SAFETY.indexOf(s as (typeof SAFETY)[number]);
  const safety = ss.length ? weightedKappa(ss.map((p) => idx(p.a.safety)), ss.map((p) => idx(p.b.safety)), [0, 1, 2], "linear") : null;
  return { n: pairs.length, axes, safety };
}

function pick(v: { result: number; reasoning: number; approach: number } | null, safety: string | null): Record<string, number | string | null> {
  return { result: v?.result ?? null, reasoning: v?.reasoning ?? null, approach: v?.approach ?? null, safety };
}

export function reviewStats(o: ReviewOverview): ReviewStats {
  const byStatus: Record<ItemStatus, number> = { pending: 0, partial: 0, "needs-adjudication": 0, final: 0 };
  for (const q of o.queue) byStatus[statusOf(o, q.key)]++;
  const byReviewer: ReviewStats["byReviewer"] = {};
  for (const a of o.actions) {
    if (a.case_id === null || a.set_id !== o.ctx.setId) continue;
    const r = (byReviewer[a.reviewer] ??= { decisions: 0, overrides: 0, skips: 0, adjudications: 0 });
    if (a.action === "skip") r.skips++;
    else {
      r.decisions++;
      if (a.action === "override") r.overrides++;
      if (a.action === "adjudicate") r.adjudications++;
    }
  }
  const pairs: { a: Record<string, number | string | null>; b: Record<string, number | string | null> }[] = [];
  const judgePairs: typeof pairs = [];
  let agreed = 0, diffN = 0, diffSum = 0;
  for (const st of o.states.values()) {
    if (st.decisions.length >= 2) {
      const [a, b] = st.decisions;
      pairs.push({ a: pick(a!.values, a!.safety), b: pick(b!.values, b!.safety) });
      if (!st.conflict) agreed++;
    }
    if (!st.final) continue;
    const j = judgeValues(o.ctx, st.caseId, st.repeat);
    // The expert side of the comparison: the adjudication or the latest decision (two agreeing reviews: the first).
    const d = st.adjudication ?? st.decisions[0];
    if (d?.values) judgePairs.push({ a: { result: j.result, reasoning: j.reasoning, approach: j.approach, safety: j.safety }, b: pick(d.values, d.safety) });
    if (st.final.score !== null && j.score !== null) {
      diffN++;
      diffSum += Math.abs(st.final.score - j.score);
    }
  }
  return {
    runId: o.ctx.runId, setId: o.ctx.setId, reviewersPerItem: o.settings.required, queued: o.queue.length, byStatus, byReviewer,
    interReviewer: { ...kappas(pairs), agreed },
    judgeVsExpert: { ...kappas(judgePairs), meanAbsScoreDiff: diffN ? diffSum / diffN : null },
  };
}
