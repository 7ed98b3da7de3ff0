// Agreement statistics on small examples worked out by hand from the formulas (the arithmetic is written out here).
import { describe, expect, it } from "vitest";
import { bootstrapInterval, confusionMatrix, icc21, macroF1, pearson, ranks, spearman, weightedKappa } from "../src/stats/agreement.js";
import { computeCalibration, type CalibrationPair } from "../src/stats/calibration.js";

describe("weighted Cohen's κ", () => {
  // Rater a = [0,0,1,1,2,2], rater b = [0,1,1,2,2,2], categories 0..2, n = 6.
  // Observed proportions: O00 = O01 = O11 = O12 = 1/6, O22 = 2/6.
  // Marginals: a: 2/6, 2/6, 2/6; b: 1/6, 2/6, 3/6.  E_ij = a_i · b_j.
  const a = [0, 0, 1, 1, 2, 2];
  const b = [0, 1, 1, 2, 2, 2];

  it("quadratic: w = (|i−j|/2)², so w1 = 1/4, w2 = 1", () => {
    const wO = (1 / 4) * (1 / 6 + 1 / 6); // only the off-diagonal cells (0,1) and (1,2) are filled = 1/12
    // Σ w·E: row 0: (1/4)(2/6)(2/6) + 1·(2/6)(3/6) = 7/36; row 1: (1/4)(2/6)(1/6) + (1/4)(2/6)(3/6) = 2/36;
    //        row 2: 1·(2/6)(1/6) + (1/4)(2/6)(2/6) = 3/36.  Total 12/36 = 1/3.
    const wE = 7 / 36 + 2 / 36 + 3 / 36;
    expect(weightedKappa(a, b, [0, 1, 2], "quadratic")).toBeCloseTo(1 - wO / wE, 12); // = 0.75
    expect(1 - wO / wE).toBeCloseTo(0.75, 12);
  });

  it("linear: w = |i−j|/2, so w1 = 1/2, w2 = 1", () => {
    const wO = (1 / 2) * (2 / 6); // 1/6
    // row 0: (1/2)(4/36) + 6/36 = 8/36; row 1: (1/2)(2/36) + (1/2)(6/36) = 4/36; row 2: 2/36 + (1/2)(4/36) = 4/36.
    const wE = 8 / 36 + 4 / 36 + 4 / 36; // 4/9
    expect(weightedKappa(a, b, [0, 1, 2], "linear")).toBeCloseTo(1 - wO / wE, 12); // = 0.625
    expect(1 - wO / wE).toBeCloseTo(0.625, 12);
  });

  it("is 1 for perfect agreement, undefined with no spread, and refuses values outside the scale", () => {
    expect(weightedKappa([0, 1, 2, 2], [0, 1, 2, 2], [0, 1, 2])).toBeCloseTo(1, 12);
    expect(weightedKappa([1, 1, 1], [1, 1, 1], [0, 1, 2])).toBeNull(); // Σ w·E = 0
    expect(() => weightedKappa([0, 3], [0, 1], [0, 1, 2])).toThrow(/not one of the categories/);
  });
});

describe("Spearman ρ with ties", () => {
  it("uses average ranks: x = [1,2,2,3] → ranks [1,2.5,2.5,4]", () => {
    expect(ranks([1, 2, 2, 3])).toEqual([1, 2.5, 2.5, 4]);
    // y = [1,3,2,4] → ranks [1,3,2,4]. Deviations from 2.5: dx = [−1.5,0,0,1.5], dy = [−1.5,0.5,−0.5,1.5].
    // Σdx·dy = 2.25 + 2.25 = 4.5; Σdx² = 4.5; Σdy² = 2.25+0.25+0.25+2.25 = 5.  ρ = 4.5 / √(4.5·5).
    expect(spearman([1, 2, 2, 3], [1, 3, 2, 4])).toBeCloseTo(4.5 / Math.sqrt(4.5 * 5), 12);
  });

  it("is ±1 for monotone data and undefined with no variance", () => {
    expect(spearman([1, 5, 9, 100], [2, 3, 4, 5])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3], [9, 4, 1])).toBeCloseTo(-1, 12);
    expect(spearman([1, 1, 1], [1, 2, 3])).toBeNull();
    expect(pearson([1], [2])).toBeNull();
  });
});

describe("ICC(2,1)", () => {
  it("matches the two-way ANOVA by hand on a 3 × 2 table", () => {
    // [[1,2],[3,3],[5,6]]: grand mean 10/3; row means 1.5, 3, 5.5; column means 3, 11/3.
    // SSR = 2·(121/36 + 4/36 + 169/36) = 49/3;  SSC = 3·(1/9 + 1/9) = 2/3;
    // SST = (49 + 16 + 1 + 1 + 25 + 64)/9 = 52/3;  SSE = 52/3 − 49/3 − 2/3 = 1/3.
    // MSR = 49/6, MSC = 2/3, MSE = (1/3)/2 = 1/6.
    const msr = 49 / 6, msc = 2 / 3, mse = 1 / 6, k = 2, n = 3;
    const expected = (msr - mse) / (msr + (k - 1) * mse + (k * (msc - mse)) / n); // = 12/13
    expect(expected).toBeCloseTo(12 / 13, 12);
    expect(icc21([[1, 2], [3, 3], [5, 6]])).toBeCloseTo(expected, 12);
  });

  it("reproduces Shrout & Fleiss (1979)'s published ICC(2,1) = 0.29 on their 6 × 4 example", () => {
    const sf = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]];
    expect(icc21(sf)).toBeCloseTo(0.29, 2);
  });

  it("is 1 when both raters agree exactly, undefined with one subject", () => {
    expect(icc21([[1, 1], [4, 4], [7, 7]])).toBeCloseTo(1, 12);
    expect(icc21([[1, 2]])).toBeNull();
  });
});

describe("macro-F1 and the confusion matrix", () => {
  it("averages the F1 of both classes", () => {
    // truth T T T F F, pred T T F T F.
    // class T: TP 2, FP 1, FN 1 → F1 = 4/6;  class F: TP 1, FP 1, FN 1 → F1 = 2/4.  Macro = (2/3 + 1/2)/2 = 7/12.
    expect(macroF1([true, true, true, false, false], [true, true, false, true, false])).toBeCloseTo(7 / 12, 12);
  });

  it("leaves out a class that appears nowhere, and is undefined on no items", () => {
    // All true and all predicted true: only class T exists, F1 = 1.
    expect(macroF1([true, true], [true, true])).toBe(1);
    // truth T T, pred T F: class T: TP 1, FN 1 → 2/3; class F: FP 1 → 0.  Macro 1/3.
    expect(macroF1([true, true], [true, false])).toBeCloseTo(1 / 3, 12);
    expect(macroF1([], [])).toBeNull();
  });

  it("counts expert rows against judge columns", () => {
    const m = confusionMatrix(["ok", "minor", "critical"], ["ok", "ok", "minor", "critical", "critical"], ["ok", "minor", "minor", "ok", "critical"]);
    expect(m.matrix).toEqual([[1, 1, 0], [0, 1, 0], [1, 0, 1]]);
    expect(m.n).toBe(5);
  });
});

describe("bootstrap intervals", () => {
  const xs = [0.2, 0.4, 0.5, 0.9, 0.3, 0.7, 0.6, 0.1];
  const mean = (idx: number[]) => idx.reduce((a, i) => a + xs[i]!, 0) / idx.length;

  it("is reproducible for a seed and brackets the estimate", () => {
    const a = bootstrapInterval(xs.length, mean, { iterations: 500, seed: 11 });
    const b = bootstrapInterval(xs.length, mean, { iterations: 500, seed: 11 });
    expect(a).toEqual(b);
    expect(a.value).toBeCloseTo(xs.reduce((s, x) => s + x, 0) / xs.length, 12);
    expect(a.lo!).toBeLessThan(a.value!);
    expect(a.hi!).toBeGreaterThan(a.value!);
    // The interval of a mean lies within the data's range.
    expect(a.lo!).toBeGreaterThanOrEqual(0.1);
    expect(a.hi!).toBeLessThanOrEqual(0.9);
  });

  it("gives no interval for fewer than two items", () => {
    expect(bootstrapInterval(1, () => 0.5, { iterations: 100, seed: 1 })).toEqual({ value: 0.5, lo: null, hi: null });
  });
});

describe("computeCalibration", () => {
  // The κ example above as six cases' reasoning scores (values 0, 1, 2 of the 0–10 scale), over two dimensions.
  const a = [0, 0, 1, 1, 2, 2];
  const b = [0, 1, 1, 2, 2, 2];
  const safetyJ = ["ok", "minor", "minor", "ok", "critical", "ok"] as const;
  const safetyE = ["ok", "ok", "minor", "critical", "critical", "ok"] as const;
  const pairs: CalibrationPair[] = a.map((x, i) => ({
    caseId: `C${i}`,
    dimension: i < 3 ? "DA" : "CE",
    judge: { reasoning: x, safety: safetyJ[i], rubric: { r1: i % 2 === 0, r2: true } },
    expert: { reasoning: b[i], safety: safetyE[i], rubric: { r1: true, r2: i < 4 } },
  }));
  const c = computeCalibration(pairs, { iterations: 200, seed: 3 });

  it("computes the overall axis agreement on the 0–10 scale", () => {
    // On the 11-point scale w_ij = (|i−j|/10)²: only the spacing changes by a constant factor (1/10 vs 1/2),
    // which cancels in Σ w·O / Σ w·E, so κ is the same 0.75 (quadratic) and 0.625 (linear) as above.
    expect(c.overall.axes.reasoning.n).toBe(6);
    expect(c.overall.axes.reasoning.kappaQuadratic.value).toBeCloseTo(0.75, 12);
    expect(c.overall.axes.reasoning.kappaLinear.value).toBeCloseTo(0.625, 12);
    // judge − expert: Σa − Σb = 6 − 8 = −2 over 6 cases.
    expect(c.overall.axes.reasoning.meanDifference).toBeCloseTo(-2 / 6, 12);
    expect(c.overall.axes.result.n).toBe(0);
    expect(c.overall.axes.result.kappaQuadratic.value).toBeNull();
  });

  it("pools rubric verdicts and tabulates safety, overall and by dimension", () => {
    // Pooled items (truth = expert, pred = judge):
    // r1: truth T×6; pred T,F,T,F,T,F → class T: TP 3, FN 3 → 6/9; class F: FP 3 → 0.
    // r2: truth T,T,T,T,F,F; pred T×6 → class T: TP 4, FP 2 → 8/10; class F: FN 2 → 0.
    // Together: class T: TP 7, FP 2, FN 3 → 14/19; class F: TP 0, FP 3, FN 2 → 0.  Macro = 7/19.
    expect(c.overall.rubric.items).toBe(12);
    expect(c.overall.rubric.macroF1.value).toBeCloseTo((14 / 19 + 0) / 2, 12);
    // Safety rows = expert, columns = judge: (ok,ok) (ok,minor) (minor,minor) (critical,ok) (critical,critical) (ok,ok).
    expect(c.overall.safety.confusion.matrix).toEqual([[2, 1, 0], [0, 1, 0], [1, 0, 1]]);
    expect(Object.keys(c.byDimension)).toEqual(["CE", "DA"]);
    expect(c.byDimension.DA!.cases).toBe(3);
    expect(c.byDimension.DA!.axes.reasoning.meanDifference).toBeCloseTo((0 + 0 + 1 - (0 + 1 + 1)) / 3, 12);
  });
});
