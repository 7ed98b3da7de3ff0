// Several judges on one response: each is called (in parallel) and stored as its own judgment row in the set;
// the scoring stage aggregates them (src/judge/aggregate.ts).
import type { Adapter } from "../adapters/types.js";
import type { Message } from "../dataset/schema.js";
import type { RunStore } from "../store/runStore.js";
import type { Unit } from "../runner/prompt.js";
import { judgeUnit, type JudgeEnv, type JudgeUnitContext } from "./judgeUnit.js";
import type { JudgeOutcome } from "./judge.js";

export interface JuryMember {
  adapter: Adapter;
  /** Unique within the set: the judgment rows are keyed on it. */
  name: string;
}

/** Names the judges by their adapter names, numbering repeats (two endpoints of one model) so rows stay distinct. */
export function juryMembers(adapters: Adapter[]): JuryMember[] {
  const seen = new Map<string, number>();
  return adapters.map((adapter) => {
    const n = (seen.get(adapter.name) ?? 0) + 1;
    seen.set(adapter.name, n);
    return { adapter, name: n === 1 ? adapter.name : `${adapter.name}#${n}` };
  });
}

/** What the judgment set records about its judges (no secret: describe() never holds one). */
export function juryDescription(members: JuryMember[], mode: string): Record<string, unknown>[] {
  return members.map((m) => ({ name: m.name, mode, ...m.adapter.describe() }));
}

/** Judges one response with every context given, in parallel; each judgment is stored as it arrives. */
export async function judgeUnitWithJury(ctxs: JudgeUnitContext[], u: Unit, shown: Message[], responseId: number, answer: string, reasoning: string | null): Promise<JudgeOutcome[]> {
  return Promise.all(ctxs.map((ctx) => judgeUnit(ctx, u, shown, responseId, answer, reasoning)));
}

/** A set's jury, remembering which responses each judge has already judged so a resumed run or re-judge skips them. */
export class Jury {
  private readonly ctxs: JudgeUnitContext[];
  private readonly done: Map<string, Set<number>>;
  /** Judge calls made through this jury and how many failed (after repair retries): what runs and re-judges report. */
  readonly counts = { calls: 0, failures: 0 };

  /** `env.cache: false` asks every judge afresh instead of reusing an identical earlier judgment from the database. */
  constructor(store: RunStore, setId: number, readonly members: JuryMember[], env: JudgeEnv & { cache?: boolean }) {
    this.ctxs = members.map((m) => ({ store, setId, judge: m.adapter, judgeName: m.name, ...env }));
    this.done = new Map(members.map((m) => [m.name, store.judgedResponses(setId, m.name)]));
  }

  /** True when at least one judge has yet to judge this response. */
  hasPending(responseId: number): boolean {
    return this.ctxs.some((c) => !this.done.get(c.judgeName)!.has(responseId));
  }

  async judge(u: Unit, shown: Message[], responseId: number, answer: string, reasoning: string | null): Promise<void> {
    const pending = this.ctxs.filter((c) => !this.done.get(c.judgeName)!.has(responseId));
    const outs = await judgeUnitWithJury(pending, u, shown, responseId, answer, reasoning);
    for (const c of pending) this.done.get(c.judgeName)!.add(responseId);
    this.counts.calls += pending.length;
    this.counts.failures += outs.filter((o) => o.status === "failed").length;
  }
}
