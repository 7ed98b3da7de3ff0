// Scores a unit (one answer) from its objective check and its judgment, then combines units into a case score.
import type { Case, CaseInput } from "../dataset/schema.js";
import type { AggregatedJudgment } from "../judge/aggregate.js";
import type { ComponentWeights, ScoringConfig } from "./config.js";
import { scoreChoice } from "./choice.js";
import { scoreNumeric } from "./numeric.js";
import { scoreExtraction } from "./extraction.js";

export type AnswerFormat = "choice" | "open" | "extraction" | "numeric" | "dialogue";

export interface ObjectiveResult {
  score: number;
  /** A one-line description, shown to the judge and in reports. */
  summary: string;
  detail: Record<string, unknown>;
}

export function needsJudge(format: AnswerFormat): boolean {
  return format !== "extraction";
}

/** The objective check for formats that have one; null for open and dialogue. */
export function objectiveScore(c: Case, format: AnswerFormat, input: CaseInput, answer: string): ObjectiveResult | null {
  const ref = c.reference;
  if (format === "choice") {
    const gold = ref.answer as string | string[];
    const s = scoreChoice(answer, gold, Object.keys(input.options ?? {}));
    const multi = Array.isArray(gold) && gold.length > 1;
    const goldText = Array.isArray(gold) ? gold.join("") : gold;
    return {
      score: multi ? s.jaccard : s.exact ? 1 : 0,
      summary: s.chosen ? `选择 ${s.chosen.join("")}，正确答案 ${goldText}：${s.exact ? "正确" : "错误"}` : `未能识别所选选项，正确答案 ${goldText}`,
      detail: { chosen: s.chosen, exact: s.exact, jaccard: s.jaccard },
    };
  }
  if (format === "numeric" && c.format === "numeric") {
    const s = scoreNumeric(answer, c.reference.answer, c.reference.tolerance);
    return {
      score: s.within ? 1 : 0,
      summary: s.value === null ? `未能识别数值结果，正确值 ${c.reference.answer} ${c.reference.unit}` : `给出 ${s.value}，正确值 ${c.reference.answer} ${c.reference.unit}：${s.within ? "在容差内" : "超出容差"}`,
      detail: { value: s.value, within: s.within },
    };
  }
  if (format === "extraction" && c.format === "extraction") {
    const s = scoreExtraction(answer, c.reference.answer);
    return {
      score: s.f1,
      summary: s.parsed ? `字段 F1 ${s.f1.toFixed(3)}（P ${s.precision.toFixed(3)}，R ${s.recall.toFixed(3)}）` : "答案不是 JSON 对象",
      detail: { ...s },
    };
  }
  return null;
}

export interface UnitScore {
  status: "scored" | "unscored";
  score: number | null;
  objective: number | null;
  rubric: number | null;
  result: number | null;
  reasoning: number | null;
  approach: number | null;
  safety: "ok" | "minor" | "critical" | null;
  /** Why the unit is unscored, when it is. */
  reason?: string;
  /** The jury's verdict per rubric item (for calibration against experts). */
  rubricVerdicts?: Record<string, boolean>;
  objectiveDetail?: Record<string, unknown>;
}

/** Weighted mean of the available components (each 0–1), weights renormalised over what is present. */
export function combine(weights: ComponentWeights, comps: Partial<Record<keyof ComponentWeights, number | null>>): number | null {
  let num = 0;
  let den = 0;
  for (const [k, w] of Object.entries(weights) as [keyof ComponentWeights, number][]) {
    const v = comps[k];
    if (v === null || v === undefined || !w) continue;
    num += w * v;
    den += w;
  }
  return den > 0 ? num / den : null;
}

/**
 * One answer's score. `judgment` is the jury's aggregated verdict (a single judge is a jury of one); a unit that
 * needs the judge and has none (or only failed judges) is unscored, never scored from the objective check alone.
 */
export function scoreUnit(
  c: Case, format: AnswerFormat, input: CaseInput, answer: string, judgment: AggregatedJudgment | null, judgeFailed: boolean, cfg: ScoringConfig,
): UnitScore {
  const obj = objectiveScore(c, format, input, answer);
  const base = { objective: obj?.score ?? null, objectiveDetail: obj?.detail };
  if (needsJudge(format) && (judgeFailed || !judgment)) {
    // A failed judgment is never counted as a score, not even partly from the objective check.
    return { status: "unscored", score: null, rubric: null, result: null, reasoning: null, approach: null, safety: null, reason: judgeFailed ? "judge-failed" : "not-judged", ...base };
  }
  const rubric = judgment?.rubric ?? null;
  const axes = judgment ? { result: judgment.result / 10, reasoning: judgment.reasoning / 10, approach: judgment.approach / 10 } : { result: null, reasoning: null, approach: null };
  const score = combine(cfg.formats[format], { objective: obj?.score ?? null, rubric, ...axes });
  return {
    status: score === null ? "unscored" : "scored",
    score, rubric, ...axes,
    safety: judgment?.safety ?? null,
    ...(judgment && Object.keys(judgment.rubricVerdicts).length ? { rubricVerdicts: judgment.rubricVerdicts } : {}),
    ...(score === null ? { reason: "no-components" } : {}),
    ...base,
  };
}

/** A group case: mean of its variants' scores combined with their consistency (1 − range). */
export function groupScore(variantScores: number[], cfg: ScoringConfig): { score: number; mean: number; consistency: number } {
  const mean = variantScores.reduce((a, b) => a + b, 0) / variantScores.length;
  const consistency = 1 - (Math.max(...variantScores) - Math.min(...variantScores));
  const w = cfg.formats.group;
  return { score: (w.variantMean * mean + w.consistency * consistency) / (w.variantMean + w.consistency), mean, consistency };
}
