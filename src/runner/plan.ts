// Chooses which cases a run covers: profile, then --tasks / --dimension / --specialty filters, then --shard.
import type { CaseSummary } from "../dataset/load.js";
import type { Taxonomy } from "../taxonomy/load.js";
import { resolveProfile } from "../taxonomy/load.js";
import { UserError } from "../util/errors.js";
import { sha256 } from "../util/hash.js";

export interface PlanFilters {
  profile: string;
  tasks?: string[];
  dimensions?: string[];
  specialty?: string;
  /** Run only shard `index` of `count` (1-based): a deterministic split by case id, for several machines. */
  shard?: { index: number; count: number };
  /** A stratified subset: at most `perTask` cases from every task, chosen by `seed` (the same seed, the same cases). */
  sample?: { perTask: number; seed: number };
}

/** Which shard (0-based) a case belongs to: stable across machines and dataset order. */
export function shardOf(caseId: string, count: number): number {
  return parseInt(sha256(caseId).slice(0, 8), 16) % count;
}

export function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index < 1 || index > count) throw new UserError(`--shard "${text}": expected I/N with 1 ≤ I ≤ N, e.g. 2/3`);
  return { index, count };
}

/**
 * Keeps `perTask` cases per task, ranked by a hash of (seed, case id): the choice does not depend on file order, and a
 * case stays chosen when others are added to its task (for CI subsets that remain comparable across releases).
 */
export function sampleByTask<T extends { case: { id: string; task: string } }>(cases: T[], perTask: number, seed: number): T[] {
  const byTask = new Map<string, T[]>();
  for (const c of cases) {
    let arr = byTask.get(c.case.task);
    if (!arr) byTask.set(c.case.task, (arr = []));
    arr.push(c);
  }
  const keep = new Set<T>();
  for (const arr of byTask.values()) {
    const ranked = arr.map((c) => ({ c, r: sha256(`${seed}:${c.case.id}`) })).sort((a, b) => (a.r < b.r ? -1 : a.r > b.r ? 1 : 0));
    for (const { c } of ranked.slice(0, perTask)) keep.add(c);
  }
  return cases.filter((c) => keep.has(c));
}

/** Works on summaries or whole cases alike (a run plans from summaries, the dry run from whole cases). */
export function planCases<T extends CaseSummary>(cases: T[], tax: Taxonomy, f: PlanFilters): T[] {
  const sel = resolveProfile(tax, f.profile);
  const taskSet = new Set(sel.taskIds);
  for (const t of f.tasks ?? []) {
    if (!tax.task(t)) throw new UserError(`--tasks: unknown task id "${t}" (see \`medeval tasks\`)`);
  }
  for (const d of f.dimensions ?? []) {
    if (!tax.dimension(d)) throw new UserError(`--dimension: unknown dimension "${d}" (expected one of ${tax.dimensions.map((x) => x.id).join(", ")})`);
  }
  const planned = cases.filter(({ case: c, dimension }) => {
    const inProfile = taskSet.has(c.task) || sel.specialties.includes(c.provenance.specialty);
    if (!inProfile) return false;
    if (f.tasks?.length && !f.tasks.includes(c.task)) return false;
    if (f.dimensions?.length && !f.dimensions.includes(dimension)) return false;
    if (f.specialty && c.provenance.specialty !== f.specialty) return false;
    if (f.shard && shardOf(c.id, f.shard.count) !== f.shard.index - 1) return false;
    return true;
  });
  return f.sample ? sampleByTask(planned, f.sample.perTask, f.sample.seed) : planned;
}
