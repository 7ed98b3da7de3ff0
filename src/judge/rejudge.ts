// Re-judging: the stored responses of a run are judged again (another judge, jury or prompt version) as a new
// judgment set in the same database, then scored. No candidate is called; earlier sets are not touched.
import pLimit from "p-limit";
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

  const cases = new Map(o.store.listCases(o.runId).map((row) => [row.case_id, RunStore.parseCase(row)]));
  const responses = o.store.listResponses(o.runId).filter((r) => r.status === "ok");
  const repeats = Math.max(1, ...o.store.listResponses(o.runId).map((r) => r.repeat + 1));
  const work: { u: Unit; resp: ResponseRow }[] = [];
  for (const resp of responses) {
    const c = cases.get(resp.case_id);
    if (!c) continue;
    const u = unitsOf(c, resp.repeat + 1).find((x) => x.variant === resp.variant && x.repeat === resp.repeat);
    if (u && needsJudge(u.format)) work.push({ u, resp });
  }

  const jury = new Jury(o.store, setId, members, { templates: o.templates, tax: o.tax, scoring: o.scoring, cache: o.cache });
  const res = { stopped: false };
  const state: ProgressState = { done: 0, total: work.length, errors: 0, judgeFailures: 0 };
  const limit = pLimit(o.concurrency);
  await Promise.all(work.map(({ u, resp }) => limit(async () => {
    if (o.stopRequested?.()) {
      res.stopped = true;
      return;
    }
    if (jury.hasPending(resp.id)) {
      // Exactly what the candidate was shown, as stored with its answer.
      const shown = JSON.parse(resp.messages_json) as Message[];
      await jury.judge(u, shown, resp.id, resp.answer ?? "", resp.reasoning);
      state.judgeFailures = jury.counts.failures;
    }
    state.done++;
    o.progress?.update(state);
  })));
  o.progress?.finish(state);
  const stage = scoreRun(o.store, o.runId, setId, o.tax, o.scoring, repeats);
  return { runId: o.runId, setId, label, resumed: Boolean(existing), responses: work.length, judgeCalls: jury.counts.calls, judgeFailures: jury.counts.failures, ...res, stage };
}
