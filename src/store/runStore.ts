// Reads and writes one database's runs. Every write that belongs together is one transaction.
import type { DB } from "./db.js";
import { statementCache } from "./db.js";
import type { Statement } from "better-sqlite3";
import { nowIso } from "./db.js";
import { interner } from "../util/intern.js";
import type { LoadedCase } from "../dataset/load.js";
import type { Case } from "../dataset/schema.js";

export type RunStatus = "running" | "completed" | "interrupted" | "failed";

export interface RunRow {
  id: string;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
  status: RunStatus;
  profile: string | null;
  config_json: string;
  config_hash: string;
  tool_version: string;
  taxonomy_version: string;
  taxonomy_hash: string;
  datasets_json: string;
  scoring_hash: string;
}

export interface CaseRow {
  run_id: string;
  case_id: string;
  task: string;
  dimension: string;
  format: string;
  specialty: string;
  difficulty: string;
  content_hash: string;
  case_json: string;
}

export interface ResponseRow {
  id: number;
  run_id: string;
  case_id: string;
  variant: string;
  repeat: number;
  status: "ok" | "error";
  messages_json: string;
  answer: string | null;
  reasoning: string | null;
  raw_json: string | null;
  model: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  latency_ms: number | null;
  error: string | null;
  created_at: string;
  /** 1 when the answer came from the response cache. */
  cached: number;
  attempts: number;
  /** Hash of everything that changes the answer; null when caching is off. */
  cache_key: string | null;
}

export interface JudgmentRow {
  id: number;
  set_id: number;
  response_id: number;
  judge: string;
  status: "ok" | "failed";
  result: number | null;
  reasoning: number | null;
  approach: number | null;
  safety: "ok" | "minor" | "critical" | null;
  verdict_json: string | null;
  raw_json: string;
  attempts: number;
  error: string | null;
  prompt_hash: string;
  temperature: number | null;
  seed: number | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  latency_ms: number | null;
  created_at: string;
  cache_key: string | null;
  cached: number;
}

export interface ScoreRow {
  set_id: number;
  run_id: string;
  case_id: string;
  repeat: number;
  status: "scored" | "unscored";
  score: number | null;
  objective: number | null;
  rubric: number | null;
  result: number | null;
  reasoning: number | null;
  approach: number | null;
  safety: string | null;
  detail_json: string;
}

export interface FlagRow {
  run_id: string;
  set_id: number;
  case_id: string;
  repeat: number;
  variant: string;
  kind: string;
  reason: string;
}

export interface JudgmentSetRow {
  id: number;
  run_id: string;
  label: string;
  judges_json: string;
  prompt_version: string;
  prompt_hash: string;
  created_at: string;
}

export type CaseKeys = Pick<CaseRow, "case_id" | "task" | "dimension" | "format" | "specialty" | "difficulty" | "content_hash">;

export type NewRun = Omit<RunRow, "created_at" | "updated_at" | "finished_at" | "status">;
export type NewResponse = Omit<ResponseRow, "id" | "created_at">;
export type NewJudgment = Omit<JudgmentRow, "id" | "created_at" | "cache_key" | "cached"> & { cache_key?: string | null; cached?: number };

export function unitKey(caseId: string, variant: string, repeat: number): string {
  return `${caseId}\u0000${variant}\u0000${repeat}`;
}

/**
 * Planned-case keys by database and run: every RunStore on one connection shares them (a report builds several views
 * of one run, and a run's cases only change through addCases, which forgets them).
 */
const caseKeyCache = new WeakMap<DB, Map<string, CaseKeys[]>>();
function caseKeysOf(db: DB): Map<string, CaseKeys[]> {
  let m = caseKeyCache.get(db);
  if (!m) caseKeyCache.set(db, (m = new Map()));
  return m;
}

export class RunStore {
  private readonly stmt: (sql: string) => Statement;
  constructor(readonly db: DB) {
    this.stmt = statementCache(db);
  }

  createRun(run: NewRun): void {
    const now = nowIso();
    this.stmt(
      `INSERT INTO runs (id, created_at, updated_at, status, profile, config_json, config_hash, tool_version, taxonomy_version, taxonomy_hash, datasets_json, scoring_hash)
       VALUES (@id, @now, @now, 'running', @profile, @config_json, @config_hash, @tool_version, @taxonomy_version, @taxonomy_hash, @datasets_json, @scoring_hash)`,
    ).run({ ...run, now });
  }

  getRun(id: string): RunRow | undefined {
    return this.stmt("SELECT * FROM runs WHERE id = ?").get(id) as RunRow | undefined;
  }

  latestRun(): RunRow | undefined {
    return this.stmt("SELECT * FROM runs ORDER BY created_at DESC, rowid DESC LIMIT 1").get() as RunRow | undefined;
  }

  listRuns(): RunRow[] {
    return this.stmt("SELECT * FROM runs ORDER BY created_at").all() as RunRow[];
  }

  setRunStatus(id: string, status: RunStatus): void {
    const now = nowIso();
    this.stmt("UPDATE runs SET status = ?, updated_at = ?, finished_at = CASE WHEN ? IN ('completed','failed') THEN ? ELSE finished_at END WHERE id = ?")
      .run(status, now, status, now, id);
  }

  /** Records the planned cases; a resumed run re-inserts the same ones harmlessly. */
  addCases(runId: string, cases: LoadedCase[]): void {
    caseKeysOf(this.db).delete(runId);
    const ins = this.stmt(
      `INSERT OR IGNORE INTO run_cases (run_id, case_id, task, dimension, format, specialty, difficulty, content_hash, case_json)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.db.transaction(() => {
      for (const lc of cases) {
        const c = lc.case;
        ins.run(runId, c.id, c.task, lc.dimension, c.format, c.provenance.specialty, c.provenance.difficulty, lc.contentHash, JSON.stringify(c));
      }
    })();
  }

  listCases(runId: string): CaseRow[] {
    return this.stmt("SELECT * FROM run_cases WHERE run_id = ? ORDER BY case_id").all(runId) as CaseRow[];
  }

  static parseCase(row: CaseRow): Case {
    return JSON.parse(row.case_json) as Case;
  }

  /** Units already answered (and, unless errors are to be retried, those that failed): a resumed run skips them. */
  answeredUnits(runId: string, includeErrors = false): Map<string, ResponseRow> {
    // Everything but the raw reply, the bulk of a row: a resumed 100,000-case run must not load it all.
    const rows = this.stmt(`SELECT id, run_id, case_id, variant, repeat, status, messages_json, answer, reasoning, NULL AS raw_json, model, prompt_tokens,
      completion_tokens, latency_ms, error, created_at, cached, attempts, cache_key FROM responses WHERE run_id = ? ${includeErrors ? "" : "AND status = 'ok'"}`).all(runId) as ResponseRow[];
    return new Map(rows.map((r) => [unitKey(r.case_id, r.variant, r.repeat), r]));
  }

  /** Inserts a response, or replaces an earlier error for the same unit. Returns the row id. */
  saveResponse(r: NewResponse): number {
    const row = this.stmt(
      `INSERT INTO responses (run_id, case_id, variant, repeat, status, messages_json, answer, reasoning, raw_json, model, prompt_tokens, completion_tokens, latency_ms, error, created_at, cached, attempts, cache_key)
       VALUES (@run_id, @case_id, @variant, @repeat, @status, @messages_json, @answer, @reasoning, @raw_json, @model, @prompt_tokens, @completion_tokens, @latency_ms, @error, @created_at, @cached, @attempts, @cache_key)
       ON CONFLICT (run_id, case_id, variant, repeat) DO UPDATE SET
         status = excluded.status, messages_json = excluded.messages_json, answer = excluded.answer, reasoning = excluded.reasoning,
         raw_json = excluded.raw_json, model = excluded.model, prompt_tokens = excluded.prompt_tokens, completion_tokens = excluded.completion_tokens,
         latency_ms = excluded.latency_ms, error = excluded.error, created_at = excluded.created_at, cached = excluded.cached, attempts = excluded.attempts, cache_key = excluded.cache_key
       WHERE responses.status = 'error'
       RETURNING id`,
    ).get({ ...r, created_at: nowIso() }) as { id: number } | undefined;
    if (row) return row.id;
    // The unit already had a successful answer (a concurrent writer won): keep that one.
    const existing = this.stmt("SELECT id FROM responses WHERE run_id = ? AND case_id = ? AND variant = ? AND repeat = ?")
      .get(r.run_id, r.case_id, r.variant, r.repeat) as { id: number };
    return existing.id;
  }

  /** A successful answer to an identical request, from any run in this database. */
  findCachedResponse(key: string): ResponseRow | undefined {
    return this.stmt("SELECT * FROM responses WHERE cache_key = ? AND status = 'ok' LIMIT 1").get(key) as ResponseRow | undefined;
  }

  /** A successful judgment of an identical request, from any run in this database. */
  findCachedJudgment(key: string): JudgmentRow | undefined {
    return this.stmt("SELECT * FROM judgments WHERE cache_key = ? AND status = 'ok' LIMIT 1").get(key) as JudgmentRow | undefined;
  }

  /**
   * Planned cases in insertion order, read 500 at a time (keyset on rowid): a stage can walk a 100,000-case run
   * without holding it. Each page is read whole, so other statements may run between items (no open cursor).
   */
  *iterateCases(runId: string): Generator<CaseRow> {
    const page = (after: number) => this.stmt("SELECT rowid, * FROM run_cases WHERE run_id = ? AND rowid > ? ORDER BY rowid LIMIT 500").all(runId, after) as (CaseRow & { rowid: number })[];
    for (let rows = page(0); rows.length; rows = page(rows[rows.length - 1]!.rowid)) yield* rows;
  }

  getCase(runId: string, caseId: string): CaseRow | undefined {
    return this.stmt("SELECT * FROM run_cases WHERE run_id = ? AND case_id = ?").get(runId, caseId) as CaseRow | undefined;
  }

  /**
   * Task and dimension of every planned case, without the case text. Kept per store after the first read: a report
   * asks for them from several places, and a run's planned cases only change through addCases (which forgets them).
   */
  listCaseKeys(runId: string): CaseKeys[] {
    const cache = caseKeysOf(this.db);
    let rows = cache.get(runId);
    if (!rows) {
      rows = this.stmt("SELECT case_id, task, dimension, format, specialty, difficulty, content_hash FROM run_cases WHERE run_id = ? ORDER BY case_id").all(runId) as CaseKeys[];
      const one = interner();
      for (const r of rows) {
        r.task = one(r.task);
        r.dimension = one(r.dimension);
        r.format = one(r.format);
        r.specialty = one(r.specialty);
        r.difficulty = one(r.difficulty);
      }
      cache.set(runId, rows);
    }
    return rows;
  }

  /** One case's responses, without the raw replies (uses the unique index). */
  caseResponses(runId: string, caseId: string): ResponseRow[] {
    return this.stmt(`SELECT id, run_id, case_id, variant, repeat, status, messages_json, answer, reasoning, NULL AS raw_json, model, prompt_tokens,
      completion_tokens, latency_ms, error, created_at, cached, attempts, cache_key FROM responses WHERE run_id = ? AND case_id = ?`).all(runId, caseId) as ResponseRow[];
  }

  /** Every judge's judgment of one response in a set. */
  responseJudgments(setId: number, responseId: number): JudgmentRow[] {
    return this.stmt("SELECT * FROM judgments WHERE set_id = ? AND response_id = ? ORDER BY judge").all(setId, responseId) as JudgmentRow[];
  }

  /**
   * Replaces a set's derived scores and flags, streaming: `produce` is handed writers and runs inside one
   * transaction, so readers see the old rows or the new ones, never a mix, and nothing is held in memory.
   */
  rewriteScores(runId: string, setId: number, produce: (write: { score: (s: ScoreRow) => void; flag: (f: FlagRow) => void }) => void): void {
    const insScore = this.stmt(
      `INSERT INTO scores (set_id, run_id, case_id, repeat, status, score, objective, rubric, result, reasoning, approach, safety, detail_json)
       VALUES (@set_id, @run_id, @case_id, @repeat, @status, @score, @objective, @rubric, @result, @reasoning, @approach, @safety, @detail_json)`,
    );
    const insFlag = this.stmt(`INSERT OR IGNORE INTO flags (run_id, set_id, case_id, repeat, variant, kind, reason) VALUES (@run_id, @set_id, @case_id, @repeat, @variant, @kind, @reason)`);
    this.db.transaction(() => {
      this.stmt("DELETE FROM scores WHERE set_id = ?").run(setId);
      this.stmt("DELETE FROM flags WHERE run_id = ? AND set_id = ?").run(runId, setId);
      produce({ score: (r) => insScore.run(r), flag: (f) => insFlag.run(f) });
    })();
  }

  listResponses(runId: string): ResponseRow[] {
    return this.stmt("SELECT * FROM responses WHERE run_id = ? ORDER BY case_id, variant, repeat").all(runId) as ResponseRow[];
  }

  ensureJudgmentSet(runId: string, label: string, judgesJson: string, promptVersion: string, promptHash: string): number {
    const existing = this.stmt("SELECT id FROM judgment_sets WHERE run_id = ? AND label = ?").get(runId, label) as { id: number } | undefined;
    if (existing) return existing.id;
    const res = this.stmt("INSERT INTO judgment_sets (run_id, label, judges_json, prompt_version, prompt_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)")
      .run(runId, label, judgesJson, promptVersion, promptHash, nowIso());
    return Number(res.lastInsertRowid);
  }

  listJudgmentSets(runId: string): JudgmentSetRow[] {
    return this.stmt("SELECT * FROM judgment_sets WHERE run_id = ? ORDER BY id").all(runId) as JudgmentSetRow[];
  }

  /** Response ids that already have a judgment from this judge in the set. */
  judgedResponses(setId: number, judge: string): Set<number> {
    const rows = this.stmt("SELECT response_id FROM judgments WHERE set_id = ? AND judge = ?").all(setId, judge) as { response_id: number }[];
    return new Set(rows.map((r) => r.response_id));
  }

  saveJudgment(j: NewJudgment): void {
    this.stmt(
      `INSERT OR REPLACE INTO judgments (set_id, response_id, judge, status, result, reasoning, approach, safety, verdict_json, raw_json, attempts, error,
         prompt_hash, temperature, seed, prompt_tokens, completion_tokens, latency_ms, created_at, cache_key, cached)
       VALUES (@set_id, @response_id, @judge, @status, @result, @reasoning, @approach, @safety, @verdict_json, @raw_json, @attempts, @error,
         @prompt_hash, @temperature, @seed, @prompt_tokens, @completion_tokens, @latency_ms, @created_at, @cache_key, @cached)`,
    ).run({ cache_key: null, cached: 0, ...j, created_at: nowIso() });
  }

  listJudgments(setId: number): JudgmentRow[] {
    return this.stmt("SELECT * FROM judgments WHERE set_id = ? ORDER BY response_id, judge").all(setId) as JudgmentRow[];
  }

  /** Score rows without the detail of scored cases (the bulk of a row); unscored rows keep theirs (it says why). */
  listScoresLight(setId: number): ScoreRow[] {
    const rows = this.stmt(`SELECT set_id, run_id, case_id, repeat, status, score, objective, rubric, result, reasoning, approach, safety,
      CASE WHEN status = 'unscored' THEN detail_json ELSE '{}' END AS detail_json FROM scores WHERE set_id = ? ORDER BY case_id, repeat`).all(setId) as ScoreRow[];
    const one = interner();
    for (const r of rows) {
      r.run_id = one(r.run_id);
      r.status = one(r.status);
      if (r.safety !== null) r.safety = one(r.safety);
      if (r.detail_json === "{}") r.detail_json = one(r.detail_json);
    }
    return rows;
  }

  listScores(setId: number): ScoreRow[] {
    return this.stmt("SELECT * FROM scores WHERE set_id = ? ORDER BY case_id, repeat").all(setId) as ScoreRow[];
  }

  listFlags(runId: string, setId: number): FlagRow[] {
    return this.stmt("SELECT * FROM flags WHERE run_id = ? AND set_id = ? ORDER BY case_id, kind").all(runId, setId) as FlagRow[];
  }
}
