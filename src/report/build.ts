// Gathers one report document from the store: the run summary (aggregates, flags, tokens) plus per-case rows
// (cases, responses, judgments, scores, flags, reviews). Renderers only format what this returns.
import type { RunStore, RunRow, JudgmentSetRow, ResponseRow, JudgmentRow, FlagRow, CaseKeys, LightScore } from "../store/runStore.js";
import { RunStore as Store } from "../store/runStore.js";
import type { Taxonomy } from "../taxonomy/load.js";
import type { ScoringConfig } from "../scoring/config.js";
import type { JudgeReply } from "../judge/schema.js";
import { rubricWithIds } from "../scoring/rubric.js";
import { buildSummary, type RunSummary } from "./summary.js";
import { isReviewed, readReviewState, type ReviewState } from "./reviews.js";
import { toVendor } from "./vendor.js";
import { REPORT_SCHEMA_VERSION, type Audience, type CaseDetail, type InternalReport, type Report, type TaskRow } from "./json.js";
import { finalCaseScores, type FinalScores } from "../review/state.js";

/** Threshold a task must reach (0–1). Defaults to the scoring config's pass mark. */
export type ThresholdFor = (taskId: string, dimension: string) => number;

export interface BuildOptions {
  audience: Audience;
  /**
   * Which cases get the per-case drill-down: all, only flagged ones, or none. Default: all up to
   * DEFAULT_DETAIL_LIMIT cases, else flagged (critical first) up to that limit — a 100,000-case drill-down is
   * hundreds of megabytes no one reads; the report says what it left out.
   */
  cases?: "all" | "flagged" | "none";
  thresholdFor?: ThresholdFor;
  /** Fixed timestamp (tests, reproducible reports); default now. */
  generatedAt?: string;
}

const CRITICAL_KINDS = new Set(["critical-safety", "safety-task-failure"]);
const KIND_ORDER = ["critical-safety", "safety-task-failure", "judge-failed", "candidate-error", "lucky-guess"];

export function severityOf(kind: string): "critical" | "warning" {
  return CRITICAL_KINDS.has(kind) ? "critical" : "warning";
}

function kindRank(kind: string): number {
  const i = KIND_ORDER.indexOf(kind);
  return i < 0 ? KIND_ORDER.length : i;
}

const ukey = (caseId: string, repeat: number) => `${caseId}\u0000${repeat}`;

function group<T>(xs: T[], key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) {
    const k = key(x);
    let arr = m.get(k);
    if (!arr) m.set(k, (arr = []));
    arr.push(x);
  }
  return m;
}

function parseReply(j: JudgmentRow): JudgeReply | null {
  if (j.status !== "ok" || !j.verdict_json) return null;
  try {
    return JSON.parse(j.verdict_json) as JudgeReply;
  } catch {
    return null;
  }
}

export function buildReport(store: RunStore, run: RunRow, set: JudgmentSetRow, tax: Taxonomy, scoring: ScoringConfig, opts: BuildOptions): Report {
  return buildReportAndSummary(store, run, set, tax, scoring, opts).report;
}

/** The report and the summary it was built from (the runner prints the one and writes the other). */
export function buildReportAndSummary(store: RunStore, run: RunRow, set: JudgmentSetRow, tax: Taxonomy, scoring: ScoringConfig, opts: BuildOptions): { report: Report; summary: RunSummary } {
  // Computed once: the summary and the per-case rows both need the final (expert-aware) scores.
  const final = finalCaseScores(store, run.id, set.id, { tax, scoring });
  const summary = buildSummary(store, run, set, tax, scoring, final);
  const internal = assemble(store, summary, set, tax, scoring, opts, final);
  return { report: opts.audience === "vendor" ? toVendor(internal) : internal, summary };
}

function assemble(store: RunStore, s: RunSummary, set: JudgmentSetRow, tax: Taxonomy, scoring: ScoringConfig, opts: BuildOptions, final: FinalScores): InternalReport {
  const runId = s.run.id;
  const thresholdFor = opts.thresholdFor ?? (() => scoring.passMark);
  // Nothing per planned case is held (a 100,000-case run would be tens of MB): the flagged cases' task and dimension
  // are looked up by index, per-task error counts come from the database, drill-down cases are read one by one.
  const keysSeen = new Map<string, CaseKeys | undefined>();
  const keysOf = (caseId: string) => {
    if (!keysSeen.has(caseId)) keysSeen.set(caseId, store.caseKeys(runId, caseId));
    return keysSeen.get(caseId);
  };
  const flags: FlagRow[] = s.flags;
  const detail = drillDownCases(store, runId, s.cases, flags, opts.cases);
  // Score rows only for the cases the drill-down shows, read by index: a summary-only report of 100,000 cases reads none.
  const scores: LightScore[] = detail.ids.flatMap((id) => final.rowsOf(id));
  const reviews: ReviewState = readReviewState(store.db, runId, set.id);

  const scoreByUnit = new Map<string, LightScore>(scores.map((x) => [ukey(x.case_id, x.repeat), x]));
  const flagsByUnit = group(flags, (f) => ukey(f.case_id, f.repeat));
  const scoresByCase = group(scores, (x) => x.case_id);
  const criticalByTask = new Map<string, number>();
  for (const f of flags) {
    const t = keysOf(f.case_id)?.task;
    if (t && f.kind === "critical-safety") criticalByTask.set(t, (criticalByTask.get(t) ?? 0) + 1);
  }

  // ---- findings (critical first) and per-task counts
  const reviewStateOf = (caseId: string, repeat: number, flagged: boolean) =>
    !flagged ? "not-flagged" as const : isReviewed(reviews, caseId, repeat) ? "reviewed" as const : "unreviewed" as const;
  const findings = flags.map((f) => {
    const c = keysOf(f.case_id);
    return {
      kind: f.kind, severity: severityOf(f.kind), task: c?.task ?? "?", dimension: c?.dimension ?? "?",
      caseId: f.case_id, repeat: f.repeat, variant: f.variant, reason: f.reason, reviewState: reviewStateOf(f.case_id, f.repeat, true),
    };
  }).sort((a, b) => kindRank(a.kind) - kindRank(b.kind) || a.task.localeCompare(b.task) || a.caseId.localeCompare(b.caseId) || a.repeat - b.repeat);

  const catMap = new Map<string, { kind: string; severity: "critical" | "warning"; task: string; dimension: string; count: number }>();
  for (const f of findings) {
    const k = `${f.kind}\u0000${f.task}`;
    const e = catMap.get(k);
    if (e) e.count++;
    else catMap.set(k, { kind: f.kind, severity: f.severity, task: f.task, dimension: f.dimension, count: 1 });
  }
  const findingCategories = [...catMap.values()].sort((a, b) => kindRank(a.kind) - kindRank(b.kind) || a.task.localeCompare(b.task));

  // A case is flagged when any repeat has a flag; reviewed when every flagged repeat has been reviewed.
  const flaggedCases = new Map<string, boolean>();
  for (const f of flags) {
    const prev = flaggedCases.get(f.case_id) ?? true;
    flaggedCases.set(f.case_id, prev && isReviewed(reviews, f.case_id, f.repeat));
  }
  // Errors per task (failed candidate calls and failed judgments), counted by the database.
  const errorsByTask = new Map<string, number>();
  const errorRows = store.db.prepare(
    `SELECT c.task, SUM(e.n) AS n FROM (
       SELECT case_id, COUNT(*) AS n FROM responses WHERE run_id = ? AND status = 'error' GROUP BY case_id
       UNION ALL SELECT r.case_id, COUNT(*) FROM judgments j JOIN responses r ON r.id = j.response_id WHERE j.set_id = ? AND j.status = 'failed' GROUP BY r.case_id
     ) e JOIN run_cases c ON c.run_id = ? AND c.case_id = e.case_id GROUP BY c.task`,
  ).all(runId, set.id, runId) as { task: string; n: number }[];
  for (const e of errorRows) errorsByTask.set(e.task, e.n);
  const flaggedByTask = new Map<string, number>();
  const reviewedByTask = new Map<string, number>();
  for (const [caseId, reviewed] of flaggedCases) {
    const t = keysOf(caseId)?.task;
    if (!t) continue;
    flaggedByTask.set(t, (flaggedByTask.get(t) ?? 0) + 1);
    if (reviewed) reviewedByTask.set(t, (reviewedByTask.get(t) ?? 0) + 1);
  }

  const tasks: TaskRow[] = s.aggregates.tasks.map((t) => {
    const def = tax.task(t.id);
    const threshold = thresholdFor(t.id, t.dimension);
    const critical = criticalByTask.get(t.id) ?? 0;
    return {
      id: t.id, dimension: t.dimension, zh: def?.zh ?? t.id, en: def?.en ?? t.id, safetyCritical: def?.safetyCritical ?? false,
      mean: t.mean, lo: t.lo, hi: t.hi, n: t.n, unscored: t.unscored,
      errors: errorsByTask.get(t.id) ?? 0,
      flagged: flaggedByTask.get(t.id) ?? 0,
      reviewed: reviewedByTask.get(t.id) ?? 0,
      criticalFindings: critical,
      threshold,
      passed: t.mean === null ? null : t.mean >= threshold && critical === 0,
    };
  });

  // ---- per-case drill-down
  const cases: CaseDetail[] = [];
  for (const caseId of detail.ids) {
    const row = store.getCase(runId, caseId)!;
    const c = Store.parseCase(row);
    const caseResponses = store.caseResponses(runId, row.case_id);
    const repeats = new Set<number>([...(scoresByCase.get(row.case_id) ?? []).map((x) => x.repeat), ...caseResponses.map((r) => r.repeat)]);
    if (!repeats.size) repeats.add(0);
    const inputs = c.format === "group"
      ? c.variants.map((v) => ({ variant: v.id, ...inputFields(v.input) }))
      : [{ variant: "", ...inputFields(c.input) }];
    const ref = c.reference as { answer: unknown; rationale?: string; keyPoints?: string[]; rubric?: Parameters<typeof rubricWithIds>[0] };
    for (const rep of [...repeats].sort((a, b) => a - b)) {
      const sc = scoreByUnit.get(ukey(row.case_id, rep));
      const unitFlags = flagsByUnit.get(ukey(row.case_id, rep)) ?? [];
      const resps: ResponseRow[] = caseResponses.filter((r) => r.repeat === rep);
      cases.push({
        caseId: row.case_id, repeat: rep, task: row.task, dimension: row.dimension, format: row.format,
        specialty: row.specialty, difficulty: row.difficulty, language: c.provenance.language,
        status: sc ? sc.status : "missing",
        score: sc?.score ?? null,
        components: { objective: sc?.objective ?? null, rubric: sc?.rubric ?? null, result: sc?.result ?? null, reasoning: sc?.reasoning ?? null, approach: sc?.approach ?? null },
        safety: sc?.safety ?? null,
        passed: sc?.score == null ? null : sc.score >= scoring.passMark,
        flags: unitFlags.sort((a, b) => kindRank(a.kind) - kindRank(b.kind)).map((f) => ({ kind: f.kind, variant: f.variant, reason: f.reason })),
        reviewState: reviewStateOf(row.case_id, rep, unitFlags.length > 0),
        inputs,
        reference: {
          answer: ref.answer ?? null,
          rationale: ref.rationale ?? null,
          keyPoints: ref.keyPoints ?? [],
          rubric: rubricWithIds(ref.rubric).map((r) => ({ id: r.id, criterion: r.criterion, points: r.points })),
        },
        responses: resps.map((r) => ({ variant: r.variant, status: r.status, answer: r.answer, reasoning: r.reasoning, error: r.error, model: r.model })),
        judgments: resps.flatMap((r) => store.responseJudgments(set.id, r.id).map((j) => {
          const reply = parseReply(j);
          return {
            variant: r.variant, judge: j.judge, status: j.status, result: j.result, reasoning: j.reasoning, approach: j.approach, safety: j.safety,
            why: reply ? { result: reply.result.why, reasoning: reply.reasoning.why, approach: reply.approach.why, safety: reply.safety.why } : null,
            rationale: reply?.rationale ?? null,
            rubric: reply?.rubric.map((x) => ({ id: x.id, met: x.met, quote: x.quote })) ?? [],
            promptHash: j.prompt_hash, error: j.error,
          };
        })),
        reviews: reviews.byCase.get(row.case_id) ?? [],
      });
    }
  }

  const flaggedCount = flaggedCases.size;
  const reviewedCount = [...flaggedCases.values()].filter(Boolean).length;
  const promptHashes = (store.db.prepare("SELECT DISTINCT prompt_hash FROM judgments WHERE set_id = ? ORDER BY prompt_hash").all(set.id) as { prompt_hash: string }[]).map((r) => r.prompt_hash);
  const cfg = s.run.config as { candidate?: unknown; judge?: unknown };
  return {
    schema: "medeval-report",
    schemaVersion: REPORT_SCHEMA_VERSION,
    audience: "internal",
    generatedAt: opts.generatedAt ?? new Date().toISOString(),
    run: { id: runId, status: s.run.status, profile: s.run.profile, judgmentSet: s.judgmentSet.label },
    provenance: {
      toolVersion: s.run.toolVersion, taxonomyVersion: s.run.taxonomyVersion, taxonomyHash: s.run.taxonomyHash, scoringHash: s.run.scoringHash,
      passMark: scoring.passMark,
      candidate: cfg.candidate ?? null,
      judges: s.judgmentSet.judges ?? cfg.judge ?? null,
      judgePromptVersion: s.judgmentSet.promptVersion, judgePromptHash: s.judgmentSet.promptHash, judgePromptHashes: promptHashes,
      datasets: s.run.datasets.map((d) => ({ path: d.path, sha256: d.sha256, cases: d.cases })),
      startedAt: s.run.createdAt, finishedAt: s.run.finishedAt,
      tokens: s.tokens,
      cost: costOf(s),
    },
    totals: {
      cases: s.cases, scored: s.scored, unscored: s.unscored, candidateErrors: s.candidateErrors, judgeFailures: s.judgeFailures, flaggedCases: s.flaggedCases,
    },
    overall: { ...s.aggregates.overall },
    dimensions: s.aggregates.dimensions.map((d) => {
      const def = tax.dimension(d.id);
      return { id: d.id, zh: def?.zh ?? d.id, en: def?.en ?? d.id, weight: d.weight, mean: d.mean, lo: d.lo, hi: d.hi, n: d.n, tasks: d.tasks };
    }),
    tasks,
    findingCategories,
    review: { source: reviews.source, flaggedCases: flaggedCount, reviewedCases: reviewedCount, unreviewedCases: flaggedCount - reviewedCount, signOff: reviews.signOff },
    findings,
    caseDetail: { included: detail.included, shown: detail.ids.length, total: s.cases },
    cases,
  };
}

/** Above this many cases the drill-down defaults to flagged cases only, and never shows more than this many. */
export const DEFAULT_DETAIL_LIMIT = 2000;

function drillDownCases(store: RunStore, runId: string, total: number, flags: FlagRow[], want: BuildOptions["cases"]): { ids: string[]; included: "all" | "flagged" | "none" } {
  const included = want ?? (total <= DEFAULT_DETAIL_LIMIT ? "all" : "flagged");
  if (included === "none") return { ids: [], included };
  if (included === "all") return { ids: store.caseIds(runId, want === "all" ? -1 : DEFAULT_DETAIL_LIMIT), included };
  // Flagged: critical findings first, then the rest; within a rank in case-id order (flags come sorted by case id).
  const rank = new Map<string, number>();
  for (const f of flags) rank.set(f.case_id, Math.min(rank.get(f.case_id) ?? 9, kindRank(f.kind)));
  const flagged = [...rank.keys()].sort((a, b) => rank.get(a)! - rank.get(b)!);
  return { ids: want === "flagged" ? flagged : flagged.slice(0, DEFAULT_DETAIL_LIMIT), included };
}

/** The summary's cost when the run has a price table (older summaries have none). */
function costOf(s: RunSummary): InternalReport["provenance"]["cost"] {
  const c = (s as { cost?: { candidate: number | null; judge: number | null; currency: string | null } }).cost;
  if (!c || (c.candidate === null && c.judge === null)) return null;
  return { candidate: c.candidate, judge: c.judge, currency: c.currency };
}

function inputFields(i: { system?: string; context?: string; question?: string; options?: Record<string, string>; messages?: { role: string; content: string }[] } | undefined) {
  return {
    system: i?.system ?? null,
    context: i?.context ?? null,
    question: i?.question ?? null,
    options: i?.options ?? null,
    messages: i?.messages?.map((m) => ({ role: m.role, content: m.content })) ?? null,
  };
}
