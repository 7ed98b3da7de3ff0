// Re-judging: the stored responses of a run are judged again (another judge, jury or prompt version) as a new
// judgment set in the same database, then scored. No candidate is called; earlier sets are not touched.
import type { Adapter } from "../adapters/types.js";
import type { Taxonomy } from "../taxonomy/load.js";
import type { ScoringConfig } from "../scoring/config.js";
import type { JudgeTemplates } from "./prompt.js";
import { RunStore, type ResponseRow } from "../store/runStore.js";
import { unitsOf, type Unit } from "../runner/prompt.js";
import { needsJudge } from "../scoring/caseScore.js";
import { scoreRun, type StageResult } from "../scoring/stage.js";
import { Jury, juryDescription, juryMembers } from "./jury.js";
import type { Progress, ProgressState } from "../runner/progress.js";
import type { Message } from "../dataset/schema.js";
import { UserError } from "../util/errors.js";
import { keepHeapNearLiveSize, LARGE_REJUDGE_ANSWERS } from "../util/heap.js";
import { drain } from "../runner/pool.js";

export interface RejudgeOptions {
  store: RunStore;
  runId: string;
  /** The new set's label (default rejudge-N). An existing label with the same judges and prompt resumes that set. */
  label?: string;
  judges: Adapter[];
  templates: JudgeTemplates;
  tax: Taxonomy;
  scoring: ScoringConfig;
  concurrency: number;
  /** false: call every judge afresh even where an identical judgment is stored (e.g. to measure a judge's consistency). */
  cache?: boolean;
  progress?: Progress;
  stopRequested?: () => boolean;
}

export interface RejudgeResult {
  runId: string;
  setId: number;
  label: string;
  resumed: boolean;
  /** Stored answers that needed judging. */
  responses: number;
  judgeCalls: number;
  judgeFailures: number;
  stopped: boolean;
  stage: StageResult;
}

function nextLabel(existing: Set<string>): string {
  for (let n = existing.size + 1; ; n++) if (!existing.has(`rejudge-${n}`)) return `rejudge-${n}`;
}

export async function rejudgeRun(o: RejudgeOptions): Promise<RejudgeResult> {
  const run = o.store.getRun(o.runId);
  if (!run) throw new UserError(`no run "${o.runId}" in this database (list them with \`medeval runs\`)`);
  if (!o.judges.length) throw new UserError("rejudge needs at least one judge (--judge openai:MODEL)");
  const members = juryMembers(o.judges);
  const judgesJson = JSON.stringify(juryDescription(members, o.scoring.judge.mode));
  const sets = o.store.listJudgmentSets(o.runId);
  const label = o.label ?? nextLabel(new Set(sets.map((s) => s.label)));
  const existing = sets.find((s) => s.label === label);
  if (existing && (existing.judges_json !== judgesJson || existing.prompt_hash !== o.templates.hash)) {
    throw new UserError(`run ${o.runId} already has a judgment set "${label}" made with other judges or another prompt; choose another --label (sets: ${sets.map((s) => s.label).join(", ")})`);
  }
  const setId = o.store.ensureJudgmentSet(o.runId, label, judgesJson, o.templates.version, o.templates.hash);

  // Cases a page at a time, each with its stored answers read by index: a 100,000-case run is never held in memory.
  const repeats = (o.store.db.prepare("SELECT COALESCE(MAX(repeat), 0) + 1 AS n FROM responses WHERE run_id = ?").get(o.runId) as { n: number }).n;
  const answers = (o.store.db.prepare("SELECT COUNT(*) AS n FROM responses WHERE run_id = ? AND status = 'ok'").get(o.runId) as { n: number }).n;
  if (answers >= LARGE_REJUDGE_ANSWERS) keepHeapNearLiveSize();
  /** Every stored answer: with its unit when a judge grades it, null when its format is scored objectively only. */
  function* storedAnswers(): Generator<{ u: Unit; resp: ResponseRow } | null> {
    for (const row of o.store.iterateCases(o.runId)) {
      const c = RunStore.parseCase(row);
      for (const resp of o.store.caseResponses(o.runId, c.id)) {
        if (resp.status !== "ok") continue;
        const u = unitsOf(c, resp.repeat + 1).find((x) => x.variant === resp.variant && x.repeat === resp.repeat);
        yield u && needsJudge(u.format) ? { u, resp } : null;
      }
    }
  }

  const jury = new Jury(o.store, setId, members, { templates: o.templates, tax: o.tax, scoring: o.scoring, cache: o.cache });
  let judged = 0;
  const state: ProgressState = { done: 0, total: answers, errors: 0, judgeFailures: 0 };
  const stopped = await drain(storedAnswers(), o.concurrency, async (item) => {
    if (item) {
      judged++;
      if (jury.hasPending(item.resp.id)) {
        // Exactly what the candidate was shown, as stored with its answer.
        const shown = JSON.parse(item.resp.messages_json) as Message[];
        await jury.judge(item.u, shown, item.resp.id, item.resp.answer ?? "", item.resp.reasoning);
        state.judgeFailures = jury.counts.failures;
      }
    }
    state.done++;
    o.progress?.update(state);
  }, () => o.stopRequested?.() ?? false);
  o.progress?.finish(state);
  const stage = scoreRun(o.store, o.runId, setId, o.tax, o.scoring, repeats);
  return { runId: o.runId, setId, label, resumed: Boolean(existing), responses: judged, judgeCalls: jury.counts.calls, judgeFailures: jury.counts.failures, stopped, stage };
}
