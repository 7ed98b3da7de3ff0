// Case scores → task means → dimension means → weighted overall, each with a 95 % bootstrap interval.
import type { Taxonomy } from "../taxonomy/load.js";

export interface CaseScoreInput {
  caseId: string;
  task: string;
  dimension: string;
  /** null when the case could not be scored (errors, failed judge). */
  score: number | null;
}

export interface Estimate {
  mean: number | null;
  lo: number | null;
  hi: number | null;
  /** Scored cases behind the estimate. */
  n: number;
}

export interface TaskAggregate extends Estimate { id: string; dimension: string; unscored: number }
export interface DimensionAggregate extends Estimate { id: string; weight: number; tasks: number }
export interface Aggregates {
  tasks: TaskAggregate[];
  dimensions: DimensionAggregate[];
  overall: Estimate;
}

function mean(xs: number[]): number | null {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

function percentile(sorted: number[], p: number): number | null {
  if (!sorted.length) return null;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.round(p * (sorted.length - 1))));
  return sorted[idx]!;
}

/** Dimension mean = mean of its task means; overall = weighted mean of dimension means. */
function rollUp(taskMeans: Map<string, number>, tax: Taxonomy, weights: Map<string, number>): { dims: Map<string, number>; overall: number | null } {
  const dims = new Map<string, number>();
  for (const d of tax.dimensions) {
    const ms = tax.tasks.filter((t) => t.dimension === d.id && taskMeans.has(t.id)).map((t) => taskMeans.get(t.id)!);
    const m = mean(ms);
    if (m !== null) dims.set(d.id, m);
  }
  let num = 0;
  let den = 0;
  for (const [id, m] of dims) {
    const w = weights.get(id) ?? 1;
    num += w * m;
    den += w;
  }
  return { dims, overall: den ? num / den : null };
}

const TWO_POW_MINUS_32 = 1 / 4294967296;

/** `cases` is read once, so a generator works (a large run then never holds one object per case). */
export function aggregate(cases: Iterable<CaseScoreInput>, tax: Taxonomy, opts: { iterations: number; seed: number; weights?: Record<string, number> }): Aggregates {
  const weights = new Map(tax.dimensions.map((d) => [d.id as string, opts.weights?.[d.id] ?? d.weight]));
  const byTask = new Map<string, number[]>();
  const unscored = new Map<string, number>();
  const present = new Set<string>();
  let scored = 0;
  for (const c of cases) {
    present.add(c.task);
    if (c.score !== null) scored++;
    if (c.score === null) unscored.set(c.task, (unscored.get(c.task) ?? 0) + 1);
    else {
      let arr = byTask.get(c.task);
      if (!arr) byTask.set(c.task, (arr = []));
      arr.push(c.score);
    }
  }
  const taskMeans = new Map<string, number>();
  for (const [t, xs] of byTask) taskMeans.set(t, mean(xs)!);
  const point = rollUp(taskMeans, tax, weights);

  // Bootstrap: resample cases within each task, recompute every level. Plain arrays and indices, no per-iteration
  // allocation: at 100,000 cases this loop draws 10^8 numbers. The draw is seededRandom's (mulberry32) inlined, with
  // the same sequence and the same index floor(u × n): a call per draw costs about half the loop.
  let state = opts.seed >>> 0;
  const entries = [...byTask.entries()];
  const taskData = entries.map(([, xs]) => Float64Array.from(xs));
  const dimIds = tax.dimensions.map((d) => d.id as string);
  const taskDim = entries.map(([t]) => dimIds.indexOf(tax.task(t)?.dimension ?? ""));
  const taskSamples = entries.map(() => new Float64Array(opts.iterations));
  const dimSamples: number[][] = dimIds.map(() => []);
  const overallSamples: number[] = [];
  const dimSum = new Float64Array(dimIds.length);
  const dimCount = new Int32Array(dimIds.length);
  const dimWeight = dimIds.map((d) => weights.get(d) ?? 1);
  for (let b = 0; b < opts.iterations; b++) {
    dimSum.fill(0);
    dimCount.fill(0);
    for (let t = 0; t < taskData.length; t++) {
      const xs = taskData[t]!;
      let sum = 0;
      const n = xs.length;
      for (let i = 0; i < n; i++) {
        state = (state + 0x6d2b79f5) >>> 0;
        let r = Math.imul(state ^ (state >>> 15), state | 1);
        r ^= r + Math.imul(r ^ (r >>> 7), r | 61);
        // ((r ^ (r >>> 14)) >>> 0) × n < 2^53 is exact and 2^-32 is a power of two, so this equals floor((x / 2^32) × n).
        sum += xs[Math.floor((((r ^ (r >>> 14)) >>> 0) * n) * TWO_POW_MINUS_32)]!;
      }
      const m = sum / xs.length;
      taskSamples[t]![b] = m;
      const d = taskDim[t]!;
      if (d >= 0) {
        dimSum[d] = dimSum[d]! + m;
        dimCount[d] = dimCount[d]! + 1;
      }
    }
    let num = 0;
    let den = 0;
    for (let d = 0; d < dimIds.length; d++) {
      if (!dimCount[d]) continue;
      const m = dimSum[d]! / dimCount[d]!;
      dimSamples[d]!.push(m);
      num += dimWeight[d]! * m;
      den += dimWeight[d]!;
    }
    if (den) overallSamples.push(num / den);
  }
  const interval = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return { lo: percentile(s, 0.025), hi: percentile(s, 0.975) };
  };

  const tasks: TaskAggregate[] = tax.tasks.filter((t) => present.has(t.id)).map((t) => ({
    id: t.id, dimension: t.dimension, mean: taskMeans.get(t.id) ?? null, n: byTask.get(t.id)?.length ?? 0, unscored: unscored.get(t.id) ?? 0,
    ...(taskMeans.has(t.id) ? interval([...taskSamples[entries.findIndex(([id]) => id === t.id)]!]) : { lo: null, hi: null }),
  }));
  const dimensions: DimensionAggregate[] = tax.dimensions.map((d) => ({
    id: d.id, weight: weights.get(d.id)!, mean: point.dims.get(d.id) ?? null,
    n: tax.tasks.filter((t) => t.dimension === d.id).reduce((a, t) => a + (byTask.get(t.id)?.length ?? 0), 0),
    tasks: tasks.filter((t) => t.dimension === d.id && t.mean !== null).length,
    ...(point.dims.has(d.id) ? interval(dimSamples[dimIds.indexOf(d.id)]!) : { lo: null, hi: null }),
  }));
  const overall: Estimate = { mean: point.overall, n: scored, ...(point.overall !== null ? interval(overallSamples) : { lo: null, hi: null }) };
  return { tasks, dimensions, overall };
}
