// Which items go to experts, and in what order: the configured flag kinds, objective/judge disagreement, unscored
// items, and a seeded random audit sample of the unflagged rest (so agreement is not measured on hard cases only).
import type { Taxonomy } from "../taxonomy/load.js";
import { seededRandom } from "../util/random.js";
import type { ReviewConfig } from "./config.js";
import { itemKey, type ReviewContext } from "./context.js";

export interface QueueReason {
  kind: string;
  reason: string;
}

export interface QueueItem {
  key: string;
  caseId: string;
  repeat: number;
  task: string;
  /** The task is safety-critical (★). */
  star: boolean;
  /** 0 critical safety, 1 a ★ task, 2 any other flag, 3 audit sample only. */
  priority: 0 | 1 | 2 | 3;
  reasons: QueueReason[];
  audit: boolean;
}

export const PRIORITY_LABEL = ["critical safety", "★ task", "flagged", "audit sample"] as const;

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(1);
}

/**
 * A seeded sample of `round(rate × n)` keys. The keys are sorted first, so the sample depends only on the set of
 * keys, the rate and the seed — never on the order they were read in.
 */
export function auditSample(keys: string[], rate: number, seed: number): Set<string> {
  const pool = [...keys].sort();
  const k = Math.round(rate * pool.length);
  const rnd = seededRandom(seed);
  // Partial Fisher–Yates: the first k positions are a uniform sample without replacement.
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rnd() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return new Set(pool.slice(0, k));
}

/** Mixes the run id into the seed so that different runs audit different cases, each reproducibly. */
function runSeed(seed: number, runId: string): number {
  let h = seed >>> 0;
  for (const ch of runId) h = Math.imul(h ^ ch.codePointAt(0)!, 0x01000193) >>> 0;
  return h;
}

export function buildQueue(ctx: ReviewContext, tax: Taxonomy, cfg: ReviewConfig): QueueItem[] {
  const q = cfg.queue;
  const wanted = new Set(q.flags);
  const items: QueueItem[] = [];
  const unflagged: string[] = [];
  const byKey = new Map<string, QueueItem>();
  // Case keys only (id, task): parsing 100,000 case texts to build a queue would be the whole cost.
  for (const { keys: row, scores } of ctx.eachCase()) {
    const c = { id: row.case_id, task: row.task };
    const star = Boolean(tax.task(c.task)?.safetyCritical);
    for (let rep = 0; rep < ctx.repeats; rep++) {
      const key = itemKey(c.id, rep);
      const reasons: QueueReason[] = [];
      const seen = new Set<string>();
      for (const f of ctx.flags.get(key) ?? []) {
        if (!wanted.has(f.kind)) continue;
        const text = f.variant ? `[${f.variant}] ${f.reason}` : f.reason;
        if (seen.has(f.kind + text)) continue;
        seen.add(f.kind + text);
        reasons.push({ kind: f.kind, reason: text });
      }
      const s = scores.find((x) => x.repeat === rep);
      if (s && q.disagreement.enabled && s.objective !== null) {
        const d = q.disagreement;
        if (s.objective >= 1 && s.reasoning !== null && s.reasoning * 10 <= d.objectivePassedReasoningAtMost) {
          reasons.push({ kind: "objective-judge-disagreement", reason: `objective check passed but judge reasoning ${fmt(s.reasoning * 10)}/10 ≤ ${fmt(d.objectivePassedReasoningAtMost)}` });
        } else if (s.objective <= 0 && s.result !== null && s.result * 10 >= d.objectiveFailedResultAtLeast) {
          reasons.push({ kind: "objective-judge-disagreement", reason: `objective check failed but judge result ${fmt(s.result * 10)}/10 ≥ ${fmt(d.objectiveFailedResultAtLeast)}` });
        }
      }
      if (q.errors && (!s || s.status === "unscored")) {
        const why = s ? String((JSON.parse(s.detail_json ?? "{}") as { reason?: string }).reason ?? "unscored") : "no score row (not scored yet)";
        reasons.push({ kind: "unscored", reason: `no case score: ${why}` });
      }
      if (!reasons.length) {
        if (s?.status === "scored") unflagged.push(key);
        continue;
      }
      const critical = reasons.some((r) => r.kind === "critical-safety");
      const item: QueueItem = { key, caseId: c.id, repeat: rep, task: c.task, star, priority: critical ? 0 : star ? 1 : 2, reasons, audit: false };
      items.push(item);
      byKey.set(key, item);
    }
  }
  for (const key of auditSample(unflagged, q.auditSample.rate, runSeed(q.auditSample.seed, ctx.runId))) {
    const [caseId, rep] = key.split("\u0000") as [string, string];
    const row = ctx.caseKeys(caseId)!;
    const c = { id: row.case_id, task: row.task };
    const star = Boolean(tax.task(c.task)?.safetyCritical);
    items.push({
      key, caseId, repeat: Number(rep), task: c.task, star, priority: star ? 1 : 3, audit: true,
      reasons: [{ kind: "audit-sample", reason: `random audit sample (${(q.auditSample.rate * 100).toFixed(1)} % of unflagged items, seed ${q.auditSample.seed})` }],
    });
  }
  return items.sort((a, b) => a.priority - b.priority || (a.caseId < b.caseId ? -1 : a.caseId > b.caseId ? 1 : 0) || a.repeat - b.repeat);
}
