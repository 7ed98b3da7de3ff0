// Executes a planned run: candidate call → stored response → judge call → stored judgment, per unit, with
// bounded concurrency. Finished units are skipped, so an interrupted run resumes where it stopped.
import pLimit from "p-limit";
import type { Adapter } from "../adapters/types.js";
import type { LoadedCase } from "../dataset/load.js";
import type { Taxonomy } from "../taxonomy/load.js";
import type { ScoringConfig } from "../scoring/config.js";
import type { JudgeTemplates } from "../judge/prompt.js";
import { judgeUnit } from "../judge/judgeUnit.js";
import { needsJudge } from "../scoring/caseScore.js";
import { RunStore, unitKey, type ResponseRow } from "../store/runStore.js";
import { unitMessages, unitsOf, type Unit } from "./prompt.js";
import { Progress, type ProgressState } from "./progress.js";
import { errorMessage } from "../util/errors.js";

export interface ExecuteOptions {
  store: RunStore;
  runId: string;
  setId: number;
  cases: LoadedCase[];
  candidate: Adapter;
  judge: Adapter;
  judgeName: string;
  templates: JudgeTemplates;
  tax: Taxonomy;
  scoring: ScoringConfig;
  concurrency: number;
  repeats?: number;
  progress?: Progress;
  /** Retry units whose stored answer is an error (otherwise a resumed run leaves them as they are). */
  retryErrors?: boolean;
  /** Checked between units: set when the user presses Ctrl-C, so in-flight work finishes and nothing new starts. */
  stopRequested?: () => boolean;
}

export interface ExecuteResult {
  units: number;
  candidateCalls: number;
  judgeCalls: number;
  candidateErrors: number;
  judgeFailures: number;
  /** Units whose answer was already stored (a resumed run). */
  skipped: number;
  /** Candidate answers served from the response cache. */
  cacheHits: number;
  stopped: boolean;
}

export async function executeRun(o: ExecuteOptions): Promise<ExecuteResult> {
  const repeats = o.repeats ?? 1;
  const units: { u: Unit; lc: LoadedCase }[] = o.cases.flatMap((lc) => unitsOf(lc.case, repeats).map((u) => ({ u, lc })));
  const answered = o.store.answeredUnits(o.runId, !o.retryErrors);
  const judged = o.store.judgedResponses(o.setId, o.judgeName);
  const res: ExecuteResult = { units: units.length, candidateCalls: 0, judgeCalls: 0, candidateErrors: 0, judgeFailures: 0, skipped: 0, cacheHits: 0, stopped: false };
  const state: ProgressState = { done: 0, total: units.length, errors: 0, judgeFailures: 0 };
  const limit = pLimit(o.concurrency);
  const judgeCtx = { store: o.store, setId: o.setId, judge: o.judge, judgeName: o.judgeName, templates: o.templates, tax: o.tax, scoring: o.scoring };

  const processUnit = async ({ u, lc }: { u: Unit; lc: LoadedCase }) => {
    if (o.stopRequested?.()) {
      res.stopped = true;
      return;
    }
    const messages = unitMessages(u);
    let resp: ResponseRow | undefined = answered.get(unitKey(u.case.id, u.variant, u.repeat));
    if (!resp) {
      res.candidateCalls++;
      let row: Omit<ResponseRow, "id" | "created_at">;
      try {
        const r = await o.candidate.complete({ messages, case: u.case, cacheExtra: { case: lc.contentHash, variant: u.variant, repeat: u.repeat } });
        row = {
          run_id: o.runId, case_id: u.case.id, variant: u.variant, repeat: u.repeat, status: "ok", messages_json: JSON.stringify(messages),
          answer: r.answer, reasoning: r.reasoning, raw_json: JSON.stringify(r.raw), model: r.model,
          prompt_tokens: r.usage?.promptTokens ?? null, completion_tokens: r.usage?.completionTokens ?? null, latency_ms: r.latencyMs, error: null,
          cached: r.cached ? 1 : 0, attempts: 1,
        };
        if (r.cached) res.cacheHits++;
      } catch (err) {
        res.candidateErrors++;
        state.errors++;
        row = {
          run_id: o.runId, case_id: u.case.id, variant: u.variant, repeat: u.repeat, status: "error", messages_json: JSON.stringify(messages),
          answer: null, reasoning: null, raw_json: null, model: null, prompt_tokens: null, completion_tokens: null, latency_ms: null, error: errorMessage(err),
          cached: 0, attempts: (err as { attempts?: number }).attempts ?? 1,
        };
      }
      const id = o.store.saveResponse(row);
      resp = { ...row, id, created_at: "" };
    } else {
      res.skipped++;
    }

    if (resp.status === "ok" && needsJudge(u.format) && !judged.has(resp.id)) {
      res.judgeCalls++;
      const out = await judgeUnit(judgeCtx, u, messages, resp.id, resp.answer ?? "", resp.reasoning);
      if (out.status === "failed") {
        res.judgeFailures++;
        state.judgeFailures++;
      }
    }
    state.done++;
    o.progress?.update(state);
  };

  await Promise.all(units.map((u) => limit(() => processUnit(u))));
  o.progress?.finish(state);
  return res;
}
