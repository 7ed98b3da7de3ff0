// Run A vs run B over the cases both share: per-task, per-dimension and overall deltas (B − A) with paired bootstrap
// intervals (the same cases resampled for both runs, within each task), cases that flipped across the pass mark.
// Works across candidate versions (two runs) and across judge sets (one run, two judgment sets).
import type { RunStore, RunRow, JudgmentSetRow } from "../store/runStore.js";
import type { Taxonomy } from "../taxonomy/load.js";
import { seededRandom } from "../util/random.js";
import { fmtScore, table } from "../cli/output.js";
import { mdCell } from "./markdown.js";
import { finalScoreRows } from "../review/state.js";

export interface CaseScore {
  task: string;
  dimension: string;
  contentHash: string;
  /** Mean over the case's scored repeats; null when none was scored. */
  score: number | null;
}

export interface RunScores {
  runId: string;
  set: string;
  cases: Map<string, CaseScore>;
}

export function loadRunScores(store: RunStore, run: RunRow, set: JudgmentSetRow): RunScores {
  const byCase = new Map<string, number[]>();
  for (const s of finalScoreRows(store, run.id, set.id)) {
    if (s.score === null) continue;
    let arr = byCase.get(s.case_id);
    if (!arr) byCase.set(s.case_id, (arr = []));
    arr.push(s.score);
  }
  const cases = new Map<string, CaseScore>();
  for (const c of store.listCaseIdentities(run.id)) {
    const xs = byCase.get(c.case_id);
    cases.set(c.case_id, { task: c.task, dimension: c.dimension, contentHash: c.content_hash, score: xs ? xs.reduce((a, b) => a + b, 0) / xs.length : null });
  }
  return { runId: run.id, set: set.label, cases };
}

export interface Delta {
  id: string;
  dimension: string;
  /** Shared scored cases behind the delta. */
  n: number;
  a: number;
  b: number;
  /** b − a. */
  delta: number;
  lo: number;
  hi: number;
  /** The 95 % paired interval excludes zero (and some task behind it has ≥ 2 shared cases to resample). */
  significant: boolean;
}

export interface Flip {
  caseId: string;
  task: string;
  a: number;
  b: number;
  direction: "pass→fail" | "fail→pass";
}

export interface Comparison {
  a: { runId: string; set: string };
  b: { runId: string; set: string };
  /** Cases scored in both runs with identical content. */
  shared: number;
  onlyA: number;
  onlyB: number;
  /** Same case id, different content: left out of every delta. */
  changedContent: string[];
  /** In both runs but unscored in at least one. */
  unscoredInEither: number;
  tasks: Delta[];
  dimensions: Delta[];
  overall: Delta | null;
  flips: Flip[];
  passMark: number;
  iterations: number;
  seed: number;
}

function percentile(sorted: number[], p: number): number {
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.round(p * (sorted.length - 1))));
  return sorted[idx]!;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export function compareRuns(A: RunScores, B: RunScores, tax: Taxonomy, opts: { iterations: number; seed: number; passMark: number }): Comparison {
  const pairs = new Map<string, { caseId: string; a: number; b: number }[]>();
  const changedContent: string[] = [];
  let shared = 0;
  let unscoredInEither = 0;
  const flips: Flip[] = [];
  for (const [id, ca] of A.cases) {
    const cb = B.cases.get(id);
    if (!cb) continue;
    if (ca.contentHash !== cb.contentHash || ca.task !== cb.task) {
      changedContent.push(id);
      continue;
    }
    if (ca.score === null || cb.score === null) {
      unscoredInEither++;
      continue;
    }
    shared++;
    let arr = pairs.get(ca.task);
    if (!arr) pairs.set(ca.task, (arr = []));
    arr.push({ caseId: id, a: ca.score, b: cb.score });
    const pa = ca.score >= opts.passMark;
    const pb = cb.score >= opts.passMark;
    if (pa !== pb) flips.push({ caseId: id, task: ca.task, a: ca.score, b: cb.score, direction: pa ? "pass→fail" : "fail→pass" });
  }
  const onlyA = [...A.cases.keys()].filter((id) => !B.cases.has(id)).length;
  const onlyB = [...B.cases.keys()].filter((id) => !A.cases.has(id)).length;

  // Tasks in taxonomy order; each dimension's delta is the mean of its shared tasks' deltas, overall the weighted mean.
  const taskIds = tax.tasks.map((t) => t.id).filter((id) => pairs.has(id));
  const dimOf = new Map(tax.tasks.map((t) => [t.id as string, t.dimension as string]));
  const weights = new Map(tax.dimensions.map((d) => [d.id as string, d.weight]));
  const roll = (taskA: Map<string, number>, taskB: Map<string, number>) => {
    const dims = new Map<string, { a: number; b: number }>();
    for (const d of tax.dimensions) {
      const ts = taskIds.filter((t) => dimOf.get(t) === d.id);
      if (ts.length) dims.set(d.id, { a: mean(ts.map((t) => taskA.get(t)!)), b: mean(ts.map((t) => taskB.get(t)!)) });
    }
    let wa = 0, wb = 0, w = 0;
    for (const [id, v] of dims) {
      const k = weights.get(id) ?? 1;
      wa += k * v.a;
      wb += k * v.b;
      w += k;
    }
    return { dims, overall: w ? { a: wa / w, b: wb / w } : null };
  };

  const pointA = new Map(taskIds.map((t) => [t, mean(pairs.get(t)!.map((p) => p.a))]));
  const pointB = new Map(taskIds.map((t) => [t, mean(pairs.get(t)!.map((p) => p.b))]));
  const point = roll(pointA, pointB);

  const rnd = seededRandom(opts.seed);
  const taskSamples = new Map<string, number[]>(taskIds.map((t) => [t, []]));
  const dimSamples = new Map<string, number[]>();
  const overallSamples: number[] = [];
  for (let it = 0; it < opts.iterations; it++) {
    const ba = new Map<string, number>();
    const bb = new Map<string, number>();
    for (const t of taskIds) {
      const ps = pairs.get(t)!;
      let sa = 0, sb = 0;
      for (let i = 0; i < ps.length; i++) {
        const p = ps[Math.floor(rnd() * ps.length)]!;
        sa += p.a;
        sb += p.b;
      }
      ba.set(t, sa / ps.length);
      bb.set(t, sb / ps.length);
      taskSamples.get(t)!.push(sb / ps.length - sa / ps.length);
    }
    const r = roll(ba, bb);
    for (const [d, v] of r.dims) {
      let arr = dimSamples.get(d);
      if (!arr) dimSamples.set(d, (arr = []));
      arr.push(v.b - v.a);
    }
    if (r.overall) overallSamples.push(r.overall.b - r.overall.a);
  }
  // With one case per task there is nothing to resample: the interval collapses onto the delta and says nothing,
  // so a change counts as significant only when some task behind it has two or more shared cases.
  const delta = (id: string, dimension: string, n: number, a: number, b: number, samples: number[], resampleable: boolean): Delta => {
    const s = [...samples].sort((x, y) => x - y);
    const lo = percentile(s, 0.025);
    const hi = percentile(s, 0.975);
    return { id, dimension, n, a, b, delta: b - a, lo, hi, significant: resampleable && (lo > 0 || hi < 0) };
  };
  const multi = (ts: string[]) => ts.some((t) => pairs.get(t)!.length >= 2);
  const tasks = taskIds.map((t) => delta(t, dimOf.get(t)!, pairs.get(t)!.length, pointA.get(t)!, pointB.get(t)!, taskSamples.get(t)!, multi([t])));
  const dimensions = [...point.dims].map(([d, v]) =>
    delta(d, d, tasks.filter((t) => t.dimension === d).reduce((a, t) => a + t.n, 0), v.a, v.b, dimSamples.get(d)!, multi(taskIds.filter((t) => dimOf.get(t) === d))));
  const overall = point.overall ? delta("overall", "", shared, point.overall.a, point.overall.b, overallSamples, multi(taskIds)) : null;
  flips.sort((x, y) => (x.direction === y.direction ? x.caseId.localeCompare(y.caseId) : x.direction === "pass→fail" ? -1 : 1));
  return {
    a: { runId: A.runId, set: A.set }, b: { runId: B.runId, set: B.set },
    shared, onlyA, onlyB, changedContent, unscoredInEither, tasks, dimensions, overall, flips,
    passMark: opts.passMark, iterations: opts.iterations, seed: opts.seed,
  };
}

const signed = (x: number) => `${x >= 0 ? "+" : "−"}${fmtScore(Math.abs(x))}`;
const mark = (d: Delta) => (d.significant ? (d.delta > 0 ? "▲" : "▼") : "");

function header(c: Comparison): string {
  return `A = run ${c.a.runId} (set ${c.a.set}), B = run ${c.b.runId} (set ${c.b.set}); ${c.shared} shared scored case(s)` +
    `${c.onlyA || c.onlyB ? `; only in A ${c.onlyA}, only in B ${c.onlyB}` : ""}${c.unscoredInEither ? `; unscored in one run ${c.unscoredInEither}` : ""}` +
    `${c.changedContent.length ? `; same id but changed content (left out) ${c.changedContent.length}` : ""}.`;
}

export function renderCompareTerminal(c: Comparison, tax: Taxonomy): string {
  const lines = [header(c), "Deltas are B − A on 0–100 with 95 % paired bootstrap intervals; ▲/▼ marks an interval that excludes zero.", ""];
  const row = (d: Delta, label: string[]) => [...label, fmtScore(d.a), fmtScore(d.b), signed(d.delta), `${signed(d.lo)} … ${signed(d.hi)}`, String(d.n), mark(d)];
  const dimRows = c.dimensions.map((d) => row(d, [d.id, tax.dimension(d.id)?.zh ?? ""]));
  if (c.overall) dimRows.push(row(c.overall, ["ALL", "总分"]));
  lines.push(table(["dim", "维度", "A", "B", "Δ", "95% CI", "n", ""], dimRows, [2, 3, 4, 6]), "");
  lines.push(table(["task", "任务", "A", "B", "Δ", "95% CI", "n", ""], c.tasks.map((d) => row(d, [d.id, tax.task(d.id)?.zh ?? ""])), [2, 3, 4, 6]), "");
  const down = c.flips.filter((f) => f.direction === "pass→fail");
  const up = c.flips.filter((f) => f.direction === "fail→pass");
  lines.push(`pass → fail (pass mark ${fmtScore(c.passMark, 0)}): ${down.length ? down.map((f) => `${f.caseId} (${f.task} ${fmtScore(f.a)}→${fmtScore(f.b)})`).join(", ") : "none"}`);
  lines.push(`fail → pass: ${up.length ? up.map((f) => `${f.caseId} (${f.task} ${fmtScore(f.a)}→${fmtScore(f.b)})`).join(", ") : "none"}`);
  return lines.join("\n");
}

export function renderCompareMarkdown(c: Comparison, tax: Taxonomy): string {
  const out = [`# medeval comparison`, "", header(c), "", "Deltas are B − A on 0–100 with 95 % paired bootstrap intervals; ▲/▼ marks an interval that excludes zero.", ""];
  const row = (d: Delta, label: string) => `| ${label} | ${fmtScore(d.a)} | ${fmtScore(d.b)} | ${signed(d.delta)} | ${signed(d.lo)} … ${signed(d.hi)} | ${d.n} | ${mark(d)} |`;
  out.push("| dimension | A | B | Δ | 95 % CI | n | |", "|---|---:|---:|---:|---|---:|---|");
  for (const d of c.dimensions) out.push(row(d, `${d.id} ${tax.dimension(d.id)?.zh ?? ""}`));
  if (c.overall) out.push(row(c.overall, "**overall 总分**"));
  out.push("", "| task | A | B | Δ | 95 % CI | n | |", "|---|---:|---:|---:|---|---:|---|");
  for (const d of c.tasks) out.push(row(d, `${d.id} ${tax.task(d.id)?.zh ?? ""}`));
  out.push("", "## Cases that flipped", "");
  if (!c.flips.length) out.push("None.");
  else {
    out.push("| case | task | A | B | change |", "|---|---|---:|---:|---|");
    for (const f of c.flips) out.push(`| ${mdCell(f.caseId)} | ${f.task} | ${fmtScore(f.a)} | ${fmtScore(f.b)} | ${f.direction} |`);
  }
  out.push("");
  return out.join("\n");
}
