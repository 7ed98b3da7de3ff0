// Executes a planned run: candidate call → stored response → judge call → stored judgment, per unit, with
// bounded concurrency. Finished units are skipped, so an interrupted run resumes where it stopped.
import pLimit from "p-limit";
import type { Adapter } from "../adapters/types.js";
import type { LoadedCase } from "../dataset/load.js";
import type { Taxonomy } from "../taxonomy/load.js";
import type { ScoringConfig } from "../scoring/config.js";
import type { JudgeTemplates } from "../judge/prompt.js";
import { renderJudgePrompt } from "../judge/prompt.js";
import { runJudge } from "../judge/judge.js";
import { needsJudge, objectiveScore } from "../scoring/caseScore.js";
import { rubricWithIds } from "../scoring/rubric.js";
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
  /** Checked between units: set when the user presses Ctrl-C, so in-flight work finishes and nothing new starts. */
  stopRequested?: () => boolean;
}

export interface ExecuteResult {
  units: number;
  candidateCalls: number;
  judgeCalls: number;
  candidateErrors: number;
  judgeFailures: number;
  skipped: number;
  stopped: boolean;
}

export async function executeRun(o: ExecuteOptions): Promise<ExecuteResult> {
  const repeats = o.repeats ?? 1;
  const units: Unit[] = o.cases.flatMap((lc) => unitsOf(lc.case, repeats));
  const answered = o.store.answeredUnits(o.runId);
  const judged = o.store.judgedResponses(o.setId, o.judgeName);
  const res: ExecuteResult = { units: units.length, candidateCalls: 0, judgeCalls: 0, candidateErrors: 0, judgeFailures: 0, skipped: 0, stopped: false };
  const state: ProgressState = { done: 0, total: units.length, errors: 0, judgeFailures: 0 };
  const limit = pLimit(o.concurrency);

  const processUnit = async (u: Unit) => {
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
        const r = await o.candidate.complete({ messages, case: u.case });
        row = {
          run_id: o.runId, case_id: u.case.id, variant: u.variant, repeat: u.repeat, status: "ok", messages_json: JSON.stringify(messages),
          answer: r.answer, reasoning: r.reasoning, raw_json: JSON.stringify(r.raw), model: r.model,
          prompt_tokens: r.usage?.promptTokens ?? null, completion_tokens: r.usage?.completionTokens ?? null, latency_ms: r.latencyMs, error: null,
        };
      } catch (err) {
        res.candidateErrors++;
        state.errors++;
        row = {
          run_id: o.runId, case_id: u.case.id, variant: u.variant, repeat: u.repeat, status: "error", messages_json: JSON.stringify(messages),
          answer: null, reasoning: null, raw_json: null, model: null, prompt_tokens: null, completion_tokens: null, latency_ms: null, error: errorMessage(err),
        };
      }
      const id = o.store.saveResponse(row);
      resp = { ...row, id, created_at: "" };
    } else {
      res.skipped++;
    }

    if (resp.status === "ok" && needsJudge(u.format) && !judged.has(resp.id)) {
      const task = o.tax.task(u.case.task)!;
      const lang = u.case.provenance.language;
      const obj = objectiveScore(u.case, u.format, u.input, resp.answer ?? "");
      const prompt = renderJudgePrompt(o.templates[lang], { case: u.case, task, shown: messages, answer: resp.answer ?? "", reasoning: resp.reasoning, objective: obj?.summary ?? null });
      const ids = rubricWithIds(u.case.reference.rubric).map((r) => r.id);
      res.judgeCalls++;
      const out = await runJudge(o.judge, prompt.messages, ids, o.scoring.judge.repairAttempts, lang);
      if (out.status === "failed") {
        res.judgeFailures++;
        state.judgeFailures++;
      }
      const judgeCfg = o.judge.describe();
      o.store.saveJudgment({
        set_id: o.setId, response_id: resp.id, judge: o.judgeName, status: out.status,
        result: out.reply?.result.score ?? null, reasoning: out.reply?.reasoning.score ?? null, approach: out.reply?.approach.score ?? null,
        safety: out.reply?.safety.verdict ?? null, verdict_json: out.reply ? JSON.stringify(out.reply) : null, raw_json: JSON.stringify(out.raw),
        attempts: out.attempts, error: out.error, prompt_hash: prompt.hash,
        temperature: typeof judgeCfg.temperature === "number" ? judgeCfg.temperature : null, seed: typeof judgeCfg.seed === "number" ? judgeCfg.seed : null,
        prompt_tokens: out.promptTokens, completion_tokens: out.completionTokens, latency_ms: out.latencyMs,
      });
    }
    state.done++;
    o.progress?.update(state);
  };

  await Promise.all(units.map((u) => limit(() => processUnit(u))));
  o.progress?.finish(state);
  return res;
}
