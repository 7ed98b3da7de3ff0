// One evaluation end to end: load, plan, record the run, execute, score, report. The CLI `run` and `demo` share it.
import path from "node:path";
import { writeFileSync, mkdirSync, statSync } from "node:fs";
import type { Adapter } from "../adapters/types.js";
import { loadTaxonomy, type Taxonomy } from "../taxonomy/load.js";
import { listDatasetFiles, scanDatasets, summarizeCase, type CaseSummary, type LoadResult } from "../dataset/load.js";
import { loadScoringConfig } from "../scoring/config.js";
import { loadJudgeTemplates } from "../judge/prompt.js";
import { juryDescription, juryMembers } from "../judge/jury.js";
import { openDatabase } from "../store/db.js";
import { RunStore } from "../store/runStore.js";
import { planCases, type PlanFilters } from "./plan.js";
import { executeRun, type ExecuteResult } from "./run.js";
import { Progress } from "./progress.js";
import { scoreRun } from "../scoring/stage.js";
import { keepHeapNearLiveSize, LARGE_DATASET_BYTES } from "../util/heap.js";
import type { RunSummary } from "../report/summary.js";
import { renderMarkdownReport } from "../report/markdown.js";
import { buildReportAndSummary } from "../report/build.js";
import { formatIssue, UserError } from "../util/errors.js";
import { hashOf } from "../util/hash.js";
import { isLoopback, scanCase, type IdentifierFinding } from "../dataset/pii.js";
import type { LoadedCase } from "../dataset/load.js";
import type { LimitsConfig, Price } from "../config/schema.js";
import { DEFAULT_RETRY, Endpoint, Gate, LimitedAdapter, type EndpointStats } from "./limiter.js";
import { TOOL_VERSION } from "../util/version.js";
import { checkReplayPlan, describeMissing } from "../adapters/replay.js";

export interface EvaluateOptions {
  datasets: string[];
  filters: PlanFilters;
  candidate: Adapter;
  judge: Adapter;
  /** Several judges (a jury, aggregated by the scoring stage); when given, they replace `judge`. */
  judges?: Adapter[];
  dbPath: string;
  reportDir: string;
  concurrency: number;
  /** Candidate endpoint limits beyond concurrency (requests and tokens per minute, attempts). */
  candidateLimits?: LimitsConfig;
  judgeLimits?: LimitsConfig;
  /** Samples per case (worst-of-k is reported when > 1). */
  repeats?: number;
  /** Use the response cache (default true). */
  cache?: boolean;
  /** Retry units whose stored answer is an error. */
  retryErrors?: boolean;
  /** Stop starting new work after this many milliseconds (the run is marked interrupted and can be resumed). */
  deadlineMs?: number;
  prices?: Record<string, Price>;
  /** Send cases with personal identifiers to endpoints off this machine anyway. */
  allowIdentifiers?: boolean;
  resumeRunId?: string;
  /** Simulated patient for dialogue cases with a patientScript (multi-turn); without it they get one reply. */
  patient?: Adapter;
  patientLimits?: LimitsConfig;
  /** Candidate replies per simulated dialogue when the case sets no maxTurns. */
  maxTurns?: number;
  quiet?: boolean;
  stopRequested?: () => boolean;
  /** Called once the run id is known (so Ctrl-C handling can name it). */
  onRunId?: (id: string) => void;
}

export interface EvaluateResult {
  runId: string;
  dbPath: string;
  reportPath: string;
  exec: ExecuteResult;
  summary: RunSummary;
  tax: Taxonomy;
  endpoints: { candidate: EndpointStats; judge: EndpointStats };
}

type HashedConfig = { candidate: unknown; judge: unknown; judges?: unknown; patient?: unknown; filters: PlanFilters; repeats: number };

/** What changes the answers; the shard is part of it (a shard resumes as itself), see also planHash. */
export function runConfigHash(config: HashedConfig): string {
  return hashOf({ candidate: config.candidate, judge: config.judge, ...(config.judges !== undefined ? { judges: config.judges } : {}), ...(config.patient !== undefined ? { patient: config.patient } : {}), filters: config.filters, repeats: config.repeats });
}

/** The same without the shard: every shard of one evaluation shares it, so merge can check they belong together. */
export function planHash(config: HashedConfig): string {
  const { shard: _shard, ...filters } = config.filters;
  return runConfigHash({ ...config, filters });
}

/** Adapters whose endpoint is off this machine, by name (mock, exec and replay send nothing anywhere). */
function remoteEndpoints(adapters: Adapter[]): string[] {
  return adapters.filter((a) => {
    const d = a.describe();
    const url = (d.baseURL ?? d.url) as string | null | undefined;
    return (a.kind === "openai" || a.kind === "http") && !isLoopback(url);
  }).map((a) => a.name);
}

export interface LocatedFinding extends IdentifierFinding {
  /** file:line of the case. */
  where: string;
}

/** Identifiers in a case's text; none for cases tagged synthetic-identifiers (exercises with fictitious ones). */
export function findIdentifiers(lc: LoadedCase): LocatedFinding[] {
  if (lc.case.tags?.includes("synthetic-identifiers")) return [];
  return scanCase(lc.case).map((f) => ({ ...f, where: `${lc.file}:${lc.line}` }));
}

/** Before any case leaves the machine: refuse if the planned cases' text holds personal identifiers. */
export function refuseIdentifiers(findings: LocatedFinding[], adapters: Adapter[]): void {
  const remote = remoteEndpoints(adapters);
  if (!remote.length || !findings.length) return;
  const lines = findings.slice(0, 30).map((f) => `  ${f.where}: ${f.caseId} ${f.field}: ${f.kind} ${f.masked}`);
  throw new UserError(`personal identifiers found in ${new Set(findings.map((f) => f.caseId)).size} case(s) that would be sent to ${remote.join(", ")} (not on this machine):\n${lines.join("\n")}${findings.length > 30 ? `\n  … and ${findings.length - 30} more` : ""}\nRemove them, tag fictitious ones "synthetic-identifiers", or pass --allow-identifiers.`);
}

/**
 * True when the candidate and every judge are one OpenAI-compatible endpoint with one key, and no judge limits were
 * set apart: the provider then counts their calls together, so one set of limits must too.
 */
export function sharesEndpoint(candidate: Adapter, judges: Adapter[], judgeLimits: LimitsConfig | undefined): boolean {
  if (judgeLimits?.concurrency !== undefined || judgeLimits?.rpm !== undefined || judgeLimits?.tpm !== undefined) return false;
  const where = (a: Adapter) => {
    if (a.kind !== "openai") return null;
    const d = a.describe();
    return `${String(d.baseURL ?? "")}\u0000${String(d.apiKeyEnv ?? "")}`;
  };
  const c = where(candidate);
  return c !== null && judges.every((j) => where(j) === c);
}

export function newRunId(): string {
  const t = new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `r${t}-${Math.random().toString(36).slice(2, 6)}`;
}

/** "tokens 12.3k · cost 4.56 CNY" for the progress line; cost only for models with a configured price. */
export function spendSoFar(parts: [EndpointStats, Adapter][], prices: Record<string, Price> | undefined): string {
  let tokens = 0;
  let cost = 0;
  let currency: string | null = null;
  for (const [s, a] of parts) {
    tokens += s.promptTokens + s.completionTokens;
    const price = prices?.[String(a.describe().model ?? "")];
    if (price) {
      cost += (s.promptTokens * price.input + s.completionTokens * price.output) / 1e6;
      currency = price.currency;
    }
  }
  const t = tokens >= 1e6 ? `${(tokens / 1e6).toFixed(2)}M` : tokens >= 1e3 ? `${(tokens / 1e3).toFixed(1)}k` : String(tokens);
  return `tokens ${t}${currency ? ` · cost ${cost.toFixed(2)} ${currency}` : ""}`;
}

/** Units a list of cases makes: one per case, one per variant of a group, times the repeats. */
function countUnits(cases: CaseSummary[], repeats: number): number {
  return cases.reduce((n, lc) => n + (lc.case.format === "group" ? (lc.case.variants ?? []).length : 1) * repeats, 0);
}

/** The run's cases from the database, a page at a time: a 100,000-case run is never held in memory while it runs. */
function* pagedCases(store: RunStore, runId: string): Generator<Pick<LoadedCase, "case" | "contentHash">> {
  for (const row of store.iterateCases(runId)) yield { case: RunStore.parseCase(row), contentHash: row.content_hash };
}

/** What the run needs of its plan; the summaries it was made from are dropped before the cases are stored. */
interface Plan {
  /** Planned case ids. */
  ids: Set<string>;
  /** Units the planned cases make (progress). */
  units: number;
  files: LoadResult["files"];
  /** The planned cases parsed, while the datasets are small enough to keep: then no second pass is needed. */
  kept: LoadedCase[] | null;
}

/** Up to this many cases a run keeps them parsed from the first pass (a few MB); beyond, it reads them again. */
const KEEP_PARSED_CASES = 5000;

/**
 * First pass over the datasets: validates every case, keeps a summary of each, plans, checks replay files and
 * identifiers. Nothing is written; the planned cases are read again and stored by storePlannedCases.
 */
async function planEvaluation(o: EvaluateOptions, tax: Taxonomy): Promise<Plan> {
  const adapters = [o.candidate, ...(o.judges?.length ? o.judges : [o.judge]), ...(o.patient ? [o.patient] : [])];
  // Scanning text costs time at 100,000 cases: only when something would leave the machine.
  const scan = !o.allowIdentifiers && remoteEndpoints(adapters).length > 0;
  const summaries: CaseSummary[] = [];
  const findings: LocatedFinding[] = [];
  // The parsed cases too while there are few of them (KEEP_PARSED_CASES); past that, only the summaries.
  const parsed: LoadedCase[] = [];
  const loaded = await scanDatasets(o.datasets, tax, (lc) => {
    summaries.push(summarizeCase(lc));
    if (summaries.length <= KEEP_PARSED_CASES) parsed.push(lc);
    else parsed.length = 0;
    if (scan) findings.push(...findIdentifiers(lc));
  });
  const errors = loaded.issues.filter((i) => i.severity === "error");
  if (errors.length) {
    const shown = errors.slice(0, 20).map(formatIssue).join("\n");
    throw new UserError(`the datasets have ${errors.length} error(s); nothing was run:\n${shown}${errors.length > 20 ? `\n… and ${errors.length - 20} more (medeval datasets validate)` : ""}`);
  }
  const cases = planCases(summaries, tax, o.filters);
  // A submitted answers file is checked against the plan before anything is written (unknown ids stop the run).
  const replay = checkReplayPlan(o.candidate, summaries, cases);
  if (replay?.missing.length && !o.quiet) process.stderr.write(`warning: ${describeMissing(replay)}\n`);
  if (!cases.length) throw new UserError(`no cases match profile ${o.filters.profile} and the filters given (see \`medeval datasets stats\`)`);
  const ids = new Set(cases.map((c) => c.case.id));
  if (findings.length) refuseIdentifiers(findings.filter((f) => ids.has(f.caseId)), adapters);
  return { ids, units: countUnits(cases, o.repeats ?? 1), files: loaded.files, kept: summaries.length <= KEEP_PARSED_CASES ? parsed.filter((lc) => ids.has(lc.case.id)) : null };
}

/** Stores the planned cases: kept from the first pass, or read again in batches (the files must not have changed). */
async function storePlannedCases(store: RunStore, runId: string, o: EvaluateOptions, tax: Taxonomy, plan: Plan): Promise<void> {
  const planned = plan.ids;
  if (plan.kept) {
    store.addCases(runId, plan.kept);
    return;
  }
  let batch: LoadedCase[] = [];
  const second = await scanDatasets(o.datasets, tax, (lc) => {
    batch.push(lc);
    if (batch.length >= 1000) {
      store.addCases(runId, batch);
      batch = [];
    }
  }, { only: (id) => planned.has(id) });
  store.addCases(runId, batch);
  const before = new Map(plan.files.map((f) => [f.path, f.sha256]));
  const changed = second.files.filter((f) => before.get(f.path) !== f.sha256).map((f) => f.path);
  if (changed.length || second.files.length !== plan.files.length) {
    throw new UserError(`${changed.join(", ") || "the dataset files"} changed while the run was reading them; nothing was run — start it again`);
  }
}

function datasetBytes(paths: string[]): number {
  return listDatasetFiles(paths).reduce((n, f) => n + statSync(f).size, 0);
}

export async function evaluate(o: EvaluateOptions): Promise<EvaluateResult> {
  const tax = loadTaxonomy();
  const scoring = loadScoringConfig();
  const templates = loadJudgeTemplates();
  if (datasetBytes(o.datasets) >= LARGE_DATASET_BYTES) keepHeapNearLiveSize();
  // Ids only, held until the cases are stored: the run then reads them back a page at a time.
  let plan: Plan | null = await planEvaluation(o, tax);
  const datasetsJson = JSON.stringify(plan.files);

  const repeats = o.repeats ?? 1;
  const config = {
    candidate: o.candidate.describe(),
    judge: o.judge.describe(),
    ...(o.judges && o.judges.length > 1 ? { judges: o.judges.map((j) => j.describe()) } : {}),
    ...(o.patient ? { patient: { ...o.patient.describe(), maxTurns: o.maxTurns ?? null } } : {}),
    filters: o.filters,
    repeats,
    concurrency: o.concurrency,
    candidateLimits: o.candidateLimits ?? null,
    judgeLimits: o.judgeLimits ?? null,
    prices: o.prices ?? null,
  };
  // What changes the answers: resuming with anything else would mix two evaluations in one run.
  const configHash = runConfigHash(config);
  const db = openDatabase(o.dbPath);
  try {
    const store = new RunStore(db);
    let runId: string;
    // The run and its cases are stored in one transaction: a failure while reading them leaves nothing behind.
    db.exec("BEGIN IMMEDIATE");
    try {
      if (o.resumeRunId) {
        const prev = store.getRun(o.resumeRunId);
        if (!prev) throw new UserError(`--resume: no run "${o.resumeRunId}" in ${o.dbPath}`);
        if (prev.config_hash !== configHash) {
          throw new UserError(`--resume: run ${prev.id} was started with a different candidate, judge or filters; resume it with the same options (stored: ${prev.config_json})`);
        }
        runId = prev.id;
        store.setRunStatus(runId, "running");
      } else {
        runId = newRunId();
        store.createRun({
          id: runId, profile: o.filters.profile, config_json: JSON.stringify(config), config_hash: configHash, tool_version: TOOL_VERSION,
          taxonomy_version: tax.version, taxonomy_hash: tax.hash, datasets_json: datasetsJson, scoring_hash: scoring.hash,
        });
      }
      await storePlannedCases(store, runId, o, tax, plan);
      db.exec("COMMIT");
    } catch (err) {
      if (db.inTransaction) db.exec("ROLLBACK");
      throw err;
    }
    o.onRunId?.(runId);
    const totalUnits = plan.units;
    plan = null;
    const endpoint = (name: string, l: LimitsConfig | undefined, fallbackConcurrency: number, shared?: Gate) =>
      new Endpoint(name, { ...DEFAULT_RETRY, concurrency: l?.concurrency ?? fallbackConcurrency, rpm: l?.rpm, tpm: l?.tpm,
        maxAttempts: l?.maxAttempts ?? DEFAULT_RETRY.maxAttempts, baseDelayMs: l?.retryBaseMs ?? DEFAULT_RETRY.baseDelayMs }, Math.random, shared);
    const candEndpoint = endpoint("candidate", o.candidateLimits, o.concurrency);
    const judgeAdapters = o.judges?.length ? o.judges : [o.judge];
    const judgeEndpoint = endpoint("judge", o.judgeLimits, o.concurrency, sharesEndpoint(o.candidate, judgeAdapters, o.judgeLimits) ? candEndpoint.gate : undefined);
    const candidate = new LimitedAdapter(o.candidate, candEndpoint);
    const started = Date.now();
    const stopRequested = () => (o.stopRequested?.() ?? false) || (o.deadlineMs !== undefined && Date.now() - started > o.deadlineMs);
    const members = juryMembers(judgeAdapters);
    const jury = members.map((m) => ({ name: m.name, adapter: new LimitedAdapter(m.adapter, judgeEndpoint) }));
    const setId = store.ensureJudgmentSet(runId, "default", JSON.stringify(juryDescription(members, scoring.judge.mode)), templates.version, templates.hash);

    let exec: ExecuteResult;
    try {
      exec = await executeRun({
        store, runId, setId, cases: pagedCases(store, runId), totalUnits, candidate, jury, templates, tax, scoring, repeats, retryErrors: o.retryErrors, cache: o.cache,
        // Units in flight: enough to keep every slot busy (a unit holds one call at a time); the gates enforce the
        // limits. On a shared gate a quarter more units than slots lets it start the next call the moment one ends
        // (as fast as twice as many at 1,000 cases, with less held in memory while waiting).
        concurrency: candEndpoint.gate === judgeEndpoint.gate
          ? Math.ceil(candEndpoint.stats.concurrency * 1.25)
          : candEndpoint.stats.concurrency + judgeEndpoint.stats.concurrency,
        progress: new Progress(process.stderr, o.quiet, () => spendSoFar([[candEndpoint.stats, o.candidate], [judgeEndpoint.stats, o.judge]], o.prices)), stopRequested,
        ...(o.patient ? { patient: new LimitedAdapter(o.patient, endpoint("patient", o.patientLimits, o.concurrency)), maxTurns: o.maxTurns } : {}),
      });
    } catch (err) {
      store.setRunStatus(runId, "failed");
      throw err;
    }
    scoreRun(store, runId, setId, tax, scoring, repeats);
    store.setRunStatus(runId, exec.stopped ? "interrupted" : "completed");

    const run = store.getRun(runId)!;
    const { report, summary } = buildReportAndSummary(store, run, store.listJudgmentSets(runId).find((s) => s.id === setId)!, tax, scoring, { audience: "internal", cases: "none" });
    mkdirSync(o.reportDir, { recursive: true });
    const reportPath = path.join(o.reportDir, `${runId}.md`);
    writeFileSync(reportPath, renderMarkdownReport(report));
    return { runId, dbPath: o.dbPath, reportPath, exec, summary, tax, endpoints: { candidate: candEndpoint.stats, judge: judgeEndpoint.stats } };
  } finally {
    db.close();
  }
}
