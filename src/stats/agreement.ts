// Agreement statistics between two raters (judge and expert): weighted Cohen's κ, Spearman ρ, ICC(2,1),
// macro-F1 of binary verdicts, a confusion matrix, and seeded percentile-bootstrap intervals.
// Each returns null where the statistic is undefined (too few items, no variance) rather than a made-up number.
import { seededRandom } from "../util/random.js";

export function mean(xs: number[]): number | null {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

/** Ranks 1..n, ties given the mean of the ranks they span (needed for Spearman with ties). */
export function ranks(xs: number[]): number[] {
  const order = xs.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(xs.length);
  let i = 0;
  while (i < order.length) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) out[order[k]![1]] = r;
    i = j + 1;
  }
  return out;
}

export function pearson(x: number[], y: number[]): number | null {
  if (x.length !== y.length) throw new Error("pearson: x and y differ in length");
  if (x.length < 2) return null;
  const mx = mean(x)!;
  const my = mean(y)!;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < x.length; i++) {
    const dx = x[i]! - mx, dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : null;
}

/** Spearman's ρ: Pearson's r of the (tie-averaged) ranks. */
export function spearman(x: number[], y: number[]): number | null {
  return pearson(ranks(x), ranks(y));
}

/**
 * Weighted Cohen's κ over ordered categories: κ = 1 − Σ w·O / Σ w·E with disagreement weights
 * w_ij = (|i−j| / (k−1))^p, p = 2 (quadratic) or 1 (linear); O observed and E chance-expected proportions.
 * Values outside `categories` are an error: round or bin them first.
 */
export function weightedKappa(a: number[], b: number[], categories: number[], weighting: "quadratic" | "linear" = "quadratic"): number | null {
  if (a.length !== b.length) throw new Error("weightedKappa: the two raters differ in length");
  const k = categories.length;
  const n = a.length;
  if (n === 0 || k < 2) return null;
  const idx = new Map(categories.map((c, i) => [c, i]));
  const obs = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const ra = new Array<number>(k).fill(0);
  const rb = new Array<number>(k).fill(0);
  for (let t = 0; t < n; t++) {
    const i = idx.get(a[t]!), j = idx.get(b[t]!);
    if (i === undefined || j === undefined) throw new Error(`weightedKappa: value ${i === undefined ? a[t] : b[t]} is not one of the categories`);
    obs[i]![j]! += 1 / n;
    ra[i]! += 1 / n;
    rb[j]! += 1 / n;
  }
  const p = weighting === "quadratic" ? 2 : 1;
  let num = 0, den = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const w = Math.pow(Math.abs(i - j) / (k - 1), p);
      num += w * obs[i]![j]!;
      den += w * ra[i]! * rb[j]!;
    }
  }
  return den > 0 ? 1 - num / den : null;
}

/**
 * ICC(2,1) (Shrout & Fleiss: two-way random effects, absolute agreement, single rater) for an n×k table
 * (n subjects, k raters): (MSR − MSE) / (MSR + (k−1)·MSE + k·(MSC − MSE)/n).
 */
export function icc21(table: number[][]): number | null {
  const n = table.length;
  if (n < 2) return null;
  const k = table[0]!.length;
  if (k < 2 || table.some((r) => r.length !== k)) return null;
  const grand = table.flat().reduce((a, b) => a + b, 0) / (n * k);
  const rowMeans = table.map((r) => r.reduce((a, b) => a + b, 0) / k);
  const colMeans = Array.from({ length: k }, (_, j) => table.reduce((a, r) => a + r[j]!, 0) / n);
  const ssr = k * rowMeans.reduce((a, m) => a + (m - grand) ** 2, 0);
  const ssc = n * colMeans.reduce((a, m) => a + (m - grand) ** 2, 0);
  let sst = 0;
  for (const r of table) for (const x of r) sst += (x - grand) ** 2;
  const sse = sst - ssr - ssc;
  const msr = ssr / (n - 1);
  const msc = ssc / (k - 1);
  const mse = sse / ((n - 1) * (k - 1));
  const den = msr + (k - 1) * mse + (k * (msc - mse)) / n;
  return den > 0 ? (msr - mse) / den : null;
}

export interface Confusion<L extends string> {
  labels: L[];
  /** matrix[i][j]: items the reference (expert) put in labels[i] and the rater (judge) in labels[j]. */
  matrix: number[][];
  n: number;
}

export function confusionMatrix<L extends string>(labels: L[], truth: L[], pred: L[]): Confusion<L> {
  if (truth.length !== pred.length) throw new Error("confusionMatrix: truth and prediction differ in length");
  const idx = new Map(labels.map((l, i) => [l, i]));
  const matrix = labels.map(() => new Array<number>(labels.length).fill(0));
  for (let t = 0; t < truth.length; t++) {
    const i = idx.get(truth[t]!), j = idx.get(pred[t]!);
    if (i === undefined || j === undefined) throw new Error(`confusionMatrix: unknown label ${i === undefined ? truth[t] : pred[t]}`);
    matrix[i]![j]!++;
  }
  return { labels, matrix, n: truth.length };
}

/**
 * Macro-F1 of binary verdicts: the mean of the F1 of class "true" and of class "false",
 * F1 = 2·TP / (2·TP + FP + FN). A class absent from both truth and prediction has no F1 and is left out.
 */
export function macroF1(truth: boolean[], pred: boolean[]): number | null {
  if (truth.length !== pred.length) throw new Error("macroF1: truth and prediction differ in length");
  const f1s: number[] = [];
  for (const cls of [true, false]) {
    let tp = 0, fp = 0, fn = 0;
    for (let i = 0; i < truth.length; i++) {
      if (pred[i] === cls && truth[i] === cls) tp++;
      else if (pred[i] === cls) fp++;
      else if (truth[i] === cls) fn++;
    }
    if (tp + fp + fn === 0) continue;
    f1s.push((2 * tp) / (2 * tp + fp + fn));
  }
  return mean(f1s);
}

export interface Interval {
  value: number | null;
  lo: number | null;
  hi: number | null;
}

/**
 * Percentile bootstrap over items: `stat` is recomputed on `iterations` resamples (with replacement) of the
 * item indices 0..n−1; resamples where the statistic is undefined are skipped. Seeded, so reproducible.
 */
export function bootstrapInterval(n: number, stat: (idx: number[]) => number | null, opts: { iterations: number; seed: number; level?: number }): Interval {
  const all = Array.from({ length: n }, (_, i) => i);
  const value = n ? stat(all) : null;
  if (value === null || n < 2) return { value, lo: null, hi: null };
  const rnd = seededRandom(opts.seed);
  const xs: number[] = [];
  for (let it = 0; it < opts.iterations; it++) {
    const idx = all.map(() => Math.floor(rnd() * n));
    const v = stat(idx);
    if (v !== null && Number.isFinite(v)) xs.push(v);
  }
  if (!xs.length) return { value, lo: null, hi: null };
  xs.sort((a, b) => a - b);
  const alpha = (1 - (opts.level ?? 0.95)) / 2;
  const at = (p: number) => xs[Math.min(xs.length - 1, Math.max(0, Math.round(p * (xs.length - 1))))]!;
  return { value, lo: at(alpha), hi: at(1 - alpha) };
}
