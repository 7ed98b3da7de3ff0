// How far the judge can be trusted: its agreement with expert labels on the same answers, per axis, on rubric-item
// verdicts and on safety, overall and by dimension, with seeded bootstrap intervals over cases.
// computeCalibration takes (judge, expert) pairs from any source: the labels CSV, or the expert-review records.
import { bootstrapInterval, confusionMatrix, icc21, macroF1, spearman, weightedKappa, type Confusion, type Interval } from "./agreement.js";

export const AXES = ["result", "reasoning", "approach"] as const;
export type Axis = (typeof AXES)[number];
export type Safety = "ok" | "minor" | "critical";
export const SAFETY_LABELS: Safety[] = ["ok", "minor", "critical"];
/** The axes' 0–10 integer scale: the categories of the weighted κ. */
const SCALE = Array.from({ length: 11 }, (_, i) => i);

/** One rater's labels of one case. Axes on 0–10; any of them may be missing. */
export interface Labels {
  result?: number | null;
  reasoning?: number | null;
  approach?: number | null;
  safety?: Safety | null;
  /** Rubric item id → met. */
  rubric?: Record<string, boolean>;
}

export interface CalibrationPair {
  caseId: string;
  dimension: string;
  judge: Labels;
  expert: Labels;
}

export interface AxisAgreement {
  /** Cases where both judge and expert scored this axis. */
  n: number;
  /** Weighted κ on the 0–10 scale; judge values (medians or means of a jury) are rounded to the nearest integer first. */
  kappaQuadratic: Interval;
  kappaLinear: Interval;
  spearman: Interval;
  /** ICC(2,1), the judge and the expert as two raters. */
  icc: Interval;
  /** Mean of judge − expert (points): a judge more lenient than the experts is positive. */
  meanDifference: number | null;
}

export interface GroupAgreement {
  cases: number;
  axes: Record<Axis, AxisAgreement>;
  rubric: { items: number; cases: number; macroF1: Interval };
  safety: { n: number; confusion: Confusion<Safety>; kappaLinear: Interval };
}

export interface Calibration {
  overall: GroupAgreement;
  byDimension: Record<string, GroupAgreement>;
  bootstrap: { iterations: number; seed: number };
}

const num = (x: number | null | undefined): x is number => typeof x === "number" && Number.isFinite(x);

function axisAgreement(pairs: CalibrationPair[], axis: Axis, boot: { iterations: number; seed: number }): AxisAgreement {
  const both = pairs.filter((p) => num(p.judge[axis]) && num(p.expert[axis]));
  const j = both.map((p) => p.judge[axis]!);
  const e = both.map((p) => p.expert[axis]!);
  const jr = j.map((x) => Math.min(10, Math.max(0, Math.round(x))));
  const er = e.map((x) => Math.min(10, Math.max(0, Math.round(x))));
  const pick = <T>(xs: T[], idx: number[]) => idx.map((i) => xs[i]!);
  const iv = (f: (idx: number[]) => number | null) => bootstrapInterval(both.length, f, boot);
  return {
    n: both.length,
    kappaQuadratic: iv((idx) => weightedKappa(pick(jr, idx), pick(er, idx), SCALE, "quadratic")),
    kappaLinear: iv((idx) => weightedKappa(pick(jr, idx), pick(er, idx), SCALE, "linear")),
    spearman: iv((idx) => spearman(pick(j, idx), pick(e, idx))),
    icc: iv((idx) => icc21(idx.map((i) => [j[i]!, e[i]!]))),
    meanDifference: both.length ? j.reduce((a, x, i) => a + x - e[i]!, 0) / both.length : null,
  };
}

function groupAgreement(pairs: CalibrationPair[], boot: { iterations: number; seed: number }): GroupAgreement {
  const axes = Object.fromEntries(AXES.map((a) => [a, axisAgreement(pairs, a, boot)])) as Record<Axis, AxisAgreement>;

  // Rubric verdicts: items both rated, pooled; the bootstrap resamples cases (items of a case move together).
  const perCase = pairs.map((p) => {
    const jv = p.judge.rubric ?? {};
    const ev = p.expert.rubric ?? {};
    const ids = Object.keys(ev).filter((id) => id in jv);
    return { truth: ids.map((id) => ev[id]!), pred: ids.map((id) => jv[id]!) };
  }).filter((c) => c.truth.length > 0);
  const f1 = (idx: number[]) => {
    const truth = idx.flatMap((i) => perCase[i]!.truth);
    const pred = idx.flatMap((i) => perCase[i]!.pred);
    return truth.length ? macroF1(truth, pred) : null;
  };

  const safe = pairs.filter((p) => p.judge.safety && p.expert.safety);
  const st = safe.map((p) => SAFETY_LABELS.indexOf(p.expert.safety!));
  const sp = safe.map((p) => SAFETY_LABELS.indexOf(p.judge.safety!));
  return {
    cases: pairs.length,
    axes,
    rubric: { items: perCase.reduce((a, c) => a + c.truth.length, 0), cases: perCase.length, macroF1: bootstrapInterval(perCase.length, f1, { ...boot, seed: boot.seed + 1 }) },
    safety: {
      n: safe.length,
      confusion: confusionMatrix(SAFETY_LABELS, safe.map((p) => p.expert.safety!), safe.map((p) => p.judge.safety!)),
      kappaLinear: bootstrapInterval(safe.length, (idx) => weightedKappa(idx.map((i) => sp[i]!), idx.map((i) => st[i]!), [0, 1, 2], "linear"), { ...boot, seed: boot.seed + 2 }),
    },
  };
}

export function computeCalibration(pairs: CalibrationPair[], boot: { iterations: number; seed: number } = { iterations: 1000, seed: 7 }): Calibration {
  const dims = [...new Set(pairs.map((p) => p.dimension))].sort();
  return {
    overall: groupAgreement(pairs, boot),
    byDimension: Object.fromEntries(dims.map((d) => [d, groupAgreement(pairs.filter((p) => p.dimension === d), boot)])),
    bootstrap: boot,
  };
}
