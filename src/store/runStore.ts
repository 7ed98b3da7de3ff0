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

/** What a resumed run keeps of a stored answer. */
export interface AnsweredUnit {
  id: number;
  status: ResponseRow["status"];
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

/** Where a planned case sits in the taxonomy: what aggregates and queues need of it, without its text. */
export type CaseKeys = Pick<CaseRow, "case_id" | "task" | "dimension">;

/** A score row as reports and reviews hold it: no ids (constant per set) and the detail only when unscored. */
export type LightScore = Omit<ScoreRow, "set_id" | "run_id" | "detail_json"> & { detail_json: string | null };

/** One planned case with its stored score rows in a judgment set, by repeat (none before scoring). */
export interface CaseScores {
  keys: CaseKeys;
  scores: LightScore[];
}

export type NewRun = Omit<RunRow, "created_at" | "updated_at" | "finished_at" | "status">;
export type NewResponse = Omit<ResponseRow, "id" | "created_at">;
export type NewJudgment = Omit<JudgmentRow, "id" | "created_at" | "cache_key" | "cached"> & { cache_key?: string | null; cached?: number };

export function unitKey(caseId: string, variant: string, repeat: number): string {
  return `${caseId}\u0000${variant}\u0000${repeat}`;
}

/** The score columns reports and reviews read (of table alias `t`): detail only where a case is unscored (it says why). */
const lightScore = (t = "") => `${t}case_id, ${t}repeat, ${t}status, ${t}score, ${t}objective, ${t}rubric, ${t}result, ${t}reasoning, ${t}approach,
  ${t}safety, CASE WHEN ${t}status = 'unscored' THEN ${t}detail_json END AS detail_json`;

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

  static parseCase(row: CaseRow): Case {
    return JSON.parse(row.case_json) as Case;
  }

  /**
   * Units already answered (and, unless errors are to be retried, those that failed), by unit key: a resumed run
   * skips them. Ids and statuses only — a resumed 100,000-case run must not hold its answers; `getResponse` reads one.
   */
  answeredUnits(runId: string, includeErrors = false): Map<string, AnsweredUnit> {
    const rows = this.stmt(`SELECT id, case_id, variant, repeat, status FROM responses WHERE run_id = ? ${includeErrors ? "" : "AND status = 'ok'"}`)
      .all(runId) as (AnsweredUnit & Pick<ResponseRow, "case_id" | "variant" | "repeat">)[];
    return new Map(rows.map((r) => [unitKey(r.case_id, r.variant, r.repeat), { id: r.id, status: r.status }]));
  }

  /** One response without its raw reply. */
  getResponse(id: number): ResponseRow | undefined {
    return this.stmt(`SELECT id, run_id, case_id, variant, repeat, status, messages_json, answer, reasoning, NULL AS raw_json, model, prompt_tokens,
      completion_tokens, latency_ms, error, created_at, cached, attempts, cache_key FROM responses WHERE id = ?`).get(id) as ResponseRow | undefined;
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

  /** A planned case's task and dimension (by the primary key). */
  caseKeys(runId: string, caseId: string): CaseKeys | undefined {
    return this.stmt("SELECT case_id, task, dimension FROM run_cases WHERE run_id = ? AND case_id = ?").get(runId, caseId) as CaseKeys | undefined;
  }

  /** Planned case ids in case-id order, at most `limit`. */
  caseIds(runId: string, limit = -1): string[] {
    return (this.stmt("SELECT case_id FROM run_cases WHERE run_id = ? ORDER BY case_id LIMIT ?").all(runId, limit) as { case_id: string }[]).map((r) => r.case_id);
  }

  /** Every planned case's task, dimension and content hash (what compare pairs runs on). */
  listCaseIdentities(runId: string): (CaseKeys & Pick<CaseRow, "content_hash">)[] {
    return this.stmt("SELECT case_id, task, dimension, content_hash FROM run_cases WHERE run_id = ? ORDER BY case_id").all(runId) as (CaseKeys & Pick<CaseRow, "content_hash">)[];
  }

  /** One item's score row in a set, light. */
  scoreOf(setId: number, caseId: string, repeat: number): LightScore | undefined {
    return this.stmt(`SELECT ${lightScore()} FROM scores WHERE set_id = ? AND case_id = ? AND repeat = ?`).get(setId, caseId, repeat) as LightScore | undefined;
  }

  /** One case's score rows in a set, light, by repeat. */
  caseScores(setId: number, caseId: string): LightScore[] {
    return this.stmt(`SELECT ${lightScore()} FROM scores WHERE set_id = ? AND case_id = ? ORDER BY repeat`).all(setId, caseId) as LightScore[];
  }

  /**
   * Every planned case in case-id order with its score rows in the set, read 500 cases a page (keyset on the
   * primary key): reports and the review queue walk a 100,000-case run without holding it. No cursor stays open
   * between pages, so other statements may run while the caller works on a case.
   */
  *eachCaseScores(runId: string, setId: number): Generator<CaseScores> {
    // Ordered by case only: the score index hands each case's rows over by repeat without a sort per page
    // (which cost a fifth of the walk); the rare out-of-order case is put in order below.
    const page = this.stmt(`SELECT c.case_id AS key, c.task, c.dimension, ${lightScore("s.")}
      FROM (SELECT case_id, task, dimension FROM run_cases WHERE run_id = ? AND case_id > ? ORDER BY case_id LIMIT 500) c
      LEFT JOIN scores s ON s.set_id = ? AND s.case_id = c.case_id ORDER BY c.case_id`);
    const one = interner();
    const inOrder = (xs: LightScore[]) => xs.every((x, i) => i === 0 || xs[i - 1]!.repeat < x.repeat) ? xs : xs.sort((x, y) => x.repeat - y.repeat);
    let after = "";
    for (;;) {
      // The rows themselves are the score rows handed out (their extra key, task and dimension are harmless):
      // a walk is transient, so a second object per row would only be garbage.
      const rows = page.all(runId, after, setId) as (LightScore & { key: string; task: string; dimension: string })[];
      if (!rows.length) return;
      let current = null as CaseScores | null;
      for (const r of rows) {
        if (current?.keys.case_id !== r.key) {
          if (current) yield { keys: current.keys, scores: inOrder(current.scores) };
          current = { keys: { case_id: r.key, task: one(r.task), dimension: one(r.dimension) }, scores: [] };
        }
        if (r.case_id !== null) current.scores.push(r); // null: a case without score rows (LEFT JOIN)
      }
      yield { keys: current!.keys, scores: inOrder(current!.scores) };
      after = rows[rows.length - 1]!.key;
    }
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

  listFlags(runId: string, setId: number): FlagRow[] {
    return this.stmt("SELECT * FROM flags WHERE run_id = ? AND set_id = ? ORDER BY case_id, kind").all(runId, setId) as FlagRow[];
  }
}
