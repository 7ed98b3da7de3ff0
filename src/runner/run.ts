// Executes a planned run: candidate call → stored response → judge call → stored judgment, per unit, with
// bounded concurrency. Finished units are skipped, so an interrupted run resumes where it stopped.
import type { Adapter } from "../adapters/types.js";
import type { LoadedCase } from "../dataset/load.js";
import type { Taxonomy } from "../taxonomy/load.js";
import type { ScoringConfig } from "../scoring/config.js";
import type { JudgeTemplates } from "../judge/prompt.js";
import { Jury, type JuryMember } from "../judge/jury.js";
import { needsJudge } from "../scoring/caseScore.js";
import { RunStore, unitKey, type AnsweredUnit, type ResponseRow } from "../store/runStore.js";
import { unitMessages, unitsOf, type Unit } from "./prompt.js";
import { Progress, type ProgressState } from "./progress.js";
import { drain } from "./pool.js";
import { errorMessage } from "../util/errors.js";
import { cacheKey } from "./cache.js";
import { dialogueKeyParts, isSimulatedDialogue, runDialogue, type DialogueResult } from "./dialogue.js";
import type { Message } from "../dataset/schema.js";

export interface ExecuteOptions {
  store: RunStore;
  runId: string;
  setId: number;
  /** The planned cases, in order; read lazily (evaluate pages them from the database). */
  cases: Iterable<Pick<LoadedCase, "case" | "contentHash">>;
  /** Units the cases make (for progress): counted when the plan was made. */
  totalUnits: number;
  candidate: Adapter;
  /** The judges (a jury of one or more), each under its stored name. */
  jury: JuryMember[];
  templates: JudgeTemplates;
  tax: Taxonomy;
  scoring: ScoringConfig;
  concurrency: number;
  repeats?: number;
  progress?: Progress;
  /** Answer from earlier identical requests stored in this database (default true). */
  cache?: boolean;
  /** Retry units whose stored answer is an error (otherwise a resumed run leaves them as they are). */
  retryErrors?: boolean;
  /** Checked between units: set when the user presses Ctrl-C, so in-flight work finishes and nothing new starts. */
  stopRequested?: () => boolean;
  /** Simulated patient: dialogue cases with a patientScript are played turn by turn (without it: one reply). */
  patient?: Adapter;
  /** Candidate replies per simulated dialogue when the case sets no maxTurns. */
  maxTurns?: number;
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
  // Units are generated as workers take them: queueing 100,000 closures up front would cost more than the cases.
  function* unitStream(): Generator<{ u: Unit; lc: Pick<LoadedCase, "case" | "contentHash"> }> {
    for (const lc of o.cases) for (const u of unitsOf(lc.case, repeats)) yield { u, lc };
  }
  const total = o.totalUnits;
  const answered = o.store.answeredUnits(o.runId, !o.retryErrors);
  const res: Omit<ExecuteResult, "judgeCalls" | "judgeFailures"> = { units: total, candidateCalls: 0, candidateErrors: 0, skipped: 0, cacheHits: 0, stopped: false };
  const state: ProgressState = { done: 0, total, errors: 0, judgeFailures: 0 };
  const jury = new Jury(o.store, o.setId, o.jury, { templates: o.templates, tax: o.tax, scoring: o.scoring, cache: o.cache });

  const processUnit = async ({ u, lc }: { u: Unit; lc: Pick<LoadedCase, "case" | "contentHash"> }) => {
    const messages = unitMessages(u);
    const patient = o.patient && isSimulatedDialogue(u, o.candidate) ? o.patient : null;
    const stored = answered.get(unitKey(u.case.id, u.variant, u.repeat));
    let resp: Omit<ResponseRow, "created_at"> | AnsweredUnit;
    if (!stored) {
      let row: Omit<ResponseRow, "id" | "created_at">;
      const req = { messages, case: u.case, variant: u.variant, cacheExtra: { case: lc.contentHash, variant: u.variant, repeat: u.repeat, ...(patient ? { dialogue: dialogueKeyParts(patient, u, o.maxTurns) } : {}) } };
      const key = o.cache === false || o.candidate.kind === "mock" ? null : cacheKey(o.candidate, req);
      const hit = key ? o.store.findCachedResponse(key) : undefined;
      if (hit) {
        res.cacheHits++;
        row = { ...hit, run_id: o.runId, case_id: u.case.id, variant: u.variant, repeat: u.repeat, cached: 1, attempts: 0, latency_ms: 0 };
      } else {
        res.candidateCalls++;
        try {
          const r: Partial<DialogueResult> & Awaited<ReturnType<Adapter["complete"]>> = patient ? await runDialogue(o.candidate, patient, u, { maxTurns: o.maxTurns, cacheExtra: req.cacheExtra }) : await o.candidate.complete(req);
          row = {
            run_id: o.runId, case_id: u.case.id, variant: u.variant, repeat: u.repeat, status: "ok", messages_json: JSON.stringify(r.shown ?? messages),
            answer: r.answer, reasoning: r.reasoning, raw_json: JSON.stringify(r.raw), model: r.model,
            prompt_tokens: r.usage?.promptTokens ?? null, completion_tokens: r.usage?.completionTokens ?? null, latency_ms: r.latencyMs, error: null,
            cached: 0, attempts: r.attempts ?? 1, cache_key: key,
          };
        } catch (err) {
          res.candidateErrors++;
          state.errors++;
          row = {
            run_id: o.runId, case_id: u.case.id, variant: u.variant, repeat: u.repeat, status: "error", messages_json: JSON.stringify((err as { shown?: Message[] }).shown ?? messages),
            answer: null, reasoning: null, raw_json: null, model: null, prompt_tokens: null, completion_tokens: null, latency_ms: null, error: errorMessage(err),
            cached: 0, attempts: (err as { attempts?: number }).attempts ?? 1, cache_key: null,
          };
        }
      }
      const id = o.store.saveResponse(row);
      resp = { ...row, id };
    } else {
      res.skipped++;
      resp = stored;
    }

    if (resp.status === "ok" && needsJudge(u.format) && jury.hasPending(resp.id)) {
      // An answer stored before a resume is read back only now, when it still needs judging.
      const full = "messages_json" in resp ? resp : o.store.getResponse(resp.id)!;
      // A simulated dialogue is judged on its whole transcript, as stored with the answer.
      const shown = patient ? (JSON.parse(full.messages_json) as Message[]) : messages;
      await jury.judge(u, shown, resp.id, full.answer ?? "", full.reasoning);
      state.judgeFailures = jury.counts.failures;
    }
    state.done++;
    o.progress?.update(state);
  };

  res.stopped = await drain(unitStream(), o.concurrency, processUnit, () => o.stopRequested?.() ?? false);
  o.progress?.finish(state);
  return { ...res, judgeCalls: jury.counts.calls, judgeFailures: jury.counts.failures };
}
