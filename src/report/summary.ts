// Everything a report shows, gathered from the database once; the renderers only format it.
import type { RunStore, RunRow, FlagRow, JudgmentSetRow } from "../store/runStore.js";
import type { Taxonomy } from "../taxonomy/load.js";
import type { ScoringConfig } from "../scoring/config.js";
import { aggregate, type Aggregates } from "../scoring/aggregate.js";
import { UserError } from "../util/errors.js";
import { finalCaseScores, type FinalScores, type ReviewBlock } from "../review/state.js";

export interface TokenTotals {
  calls: number;
  promptTokens: number;
  completionTokens: number;
}

export interface RunSummary {
  run: {
    id: string; status: string; createdAt: string; finishedAt: string | null; profile: string | null;
    toolVersion: string; taxonomyVersion: string; taxonomyHash: string; scoringHash: string;
    config: Record<string, unknown>; datasets: { path: string; sha256: string; cases: number }[];
  };
  judgmentSet: { id: number; label: string; promptVersion: string; promptHash: string; judges: unknown };
  cases: number;
  scored: number;
  unscored: number;
  candidateErrors: number;
  judgeFailures: number;
  aggregates: Aggregates;
  flags: FlagRow[];
  flagCounts: Record<string, number>;
  flaggedCases: number;
  tokens: { candidate: TokenTotals; judge: TokenTotals };
  /** Repeats per case; with more than one, worstOfK aggregates each case's lowest repeat (HealthBench worst-at-k). */
  repeats: number;
  worstOfK: Aggregates | null;
  /** From the configured price table; null where the model has no price. */
  cost: { candidate: number | null; judge: number | null; currency: string | null };
  /** Expert review (src/review): queued, pending, reviewed and overridden items, sign-off. Scores above are final scores. */
  review: ReviewBlock;
}

export function resolveRun(store: RunStore, runId: string | undefined): RunRow {
  const run = runId ? store.getRun(runId) : store.latestRun();
  if (!run) throw new UserError(runId ? `no run "${runId}" in this database (list them with \`medeval runs\`)` : "this database has no runs yet");
  return run;
}

export function resolveSet(store: RunStore, runId: string, label?: string): JudgmentSetRow {
  const sets = store.listJudgmentSets(runId);
  const set = label ? sets.find((s) => s.label === label) : sets[sets.length - 1];
  if (!set) throw new UserError(label ? `run ${runId} has no judgment set "${label}" (sets: ${sets.map((s) => s.label).join(", ") || "none"})` : `run ${runId} has no judgment set yet`);
  return set;
}

type Priced = { prices?: Record<string, { input: number; output: number; currency: string }> | null; candidate?: { model?: string }; judge?: { model?: string } };

/** Cost from tokens actually paid for (cached replies excluded) and the price per million tokens. */
function priceTokens(config: Priced, cand: { p: number; c: number }, judge: { p: number; c: number }): RunSummary["cost"] {
  const price = (model: string | undefined) => (model ? config.prices?.[model] : undefined);
  const pc = price(config.candidate?.model);
  const pj = price(config.judge?.model);
  return {
    candidate: pc ? (cand.p * pc.input + cand.c * pc.output) / 1e6 : null,
    judge: pj ? (judge.p * pj.input + judge.c * pj.output) / 1e6 : null,
    currency: pc?.currency ?? pj?.currency ?? null,
  };
}

export function buildSummary(store: RunStore, run: RunRow, set: JudgmentSetRow, tax: Taxonomy, scoring: ScoringConfig, finalScores?: FinalScores): RunSummary {
  const db = store.db;
  // Final scores: an expert's where a final review exists, else the judge's (src/review/state.ts).
  const final = finalScores ?? finalCaseScores(store, run.id, set.id, { tax, scoring });
  const config = JSON.parse(run.config_json) as { repeats?: number; candidate?: { model?: string }; judge?: { model?: string }; prices?: Record<string, { input: number; output: number; currency: string }> | null };
  const repeats = config.repeats ?? 1;
  // Repeats: a case's score is the mean over its scored repeats; worst-of-k its lowest when all k were scored.
  // Cases are streamed from the database into the aggregate: nothing per case is held here.
  let cases = 0, scoredCases = 0;
  function* inputs(score: (xs: number[]) => number | null, count: boolean) {
    for (const c of final.byCase()) {
      const xs: number[] = [];
      for (const i of c.items) if (i.score !== null) xs.push(i.score);
      if (count) {
        cases++;
        if (xs.length) scoredCases++;
      }
      yield { caseId: c.case_id, task: c.task, dimension: c.dimension, score: score(xs) };
    }
  }
  const boot = { iterations: scoring.bootstrap.iterations, seed: scoring.bootstrap.seed };
  const aggregates = aggregate(inputs((xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null), true), tax, boot);
  const worstOfK = repeats > 1 ? aggregate(inputs((xs) => (xs.length === repeats ? Math.min(...xs) : null), false), tax, boot) : null;
  const flags = store.listFlags(run.id, set.id);
  const flagCounts: Record<string, number> = {};
  for (const f of flags) flagCounts[f.kind] = (flagCounts[f.kind] ?? 0) + 1;

  const cand = db.prepare(
    "SELECT SUM(cached = 0) AS calls, COALESCE(SUM(CASE WHEN cached = 0 THEN prompt_tokens END),0) AS p, COALESCE(SUM(CASE WHEN cached = 0 THEN completion_tokens END),0) AS c, SUM(status = 'error') AS errors FROM responses WHERE run_id = ?",
  ).get(run.id) as { calls: number | null; p: number; c: number; errors: number | null };
  const judge = db.prepare(
    "SELECT COUNT(*) AS calls, COALESCE(SUM(prompt_tokens),0) AS p, COALESCE(SUM(completion_tokens),0) AS c, SUM(status = 'failed') AS failed FROM judgments WHERE set_id = ?",
  ).get(set.id) as { calls: number; p: number; c: number; failed: number | null };

  return {
    run: {
      id: run.id, status: run.status, createdAt: run.created_at, finishedAt: run.finished_at, profile: run.profile,
      toolVersion: run.tool_version, taxonomyVersion: run.taxonomy_version, taxonomyHash: run.taxonomy_hash, scoringHash: run.scoring_hash,
      config: JSON.parse(run.config_json) as Record<string, unknown>, datasets: JSON.parse(run.datasets_json) as RunSummary["run"]["datasets"],
    },
    judgmentSet: { id: set.id, label: set.label, promptVersion: set.prompt_version, promptHash: set.prompt_hash, judges: JSON.parse(set.judges_json) },
    cases,
    scored: scoredCases,
    unscored: cases - scoredCases,
    candidateErrors: cand.errors ?? 0,
    judgeFailures: judge.failed ?? 0,
    aggregates,
    flags,
    flagCounts,
    flaggedCases: new Set(flags.map((f) => f.case_id)).size,
    tokens: {
      candidate: { calls: cand.calls ?? 0, promptTokens: cand.p, completionTokens: cand.c },
      judge: { calls: judge.calls, promptTokens: judge.p, completionTokens: judge.c },
    },
    repeats,
    worstOfK,
    cost: priceTokens(config, cand, judge),
    review: final.review,
  };
}
