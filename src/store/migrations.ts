// Schema migrations by name. Each is applied once, in this order, and recorded in schema_migrations;
// new ones are appended with a new name (never edit one that has shipped).
export interface Migration {
  id: string;
  sql: string;
}

export const MIGRATIONS: Migration[] = [
  { id: "001-core", sql: `
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'interrupted', 'failed')),
    profile TEXT,
    config_json TEXT NOT NULL,
    config_hash TEXT NOT NULL,
    tool_version TEXT NOT NULL,
    taxonomy_version TEXT NOT NULL,
    taxonomy_hash TEXT NOT NULL,
    datasets_json TEXT NOT NULL,
    scoring_hash TEXT NOT NULL
  );
  CREATE TABLE run_cases (
    run_id TEXT NOT NULL REFERENCES runs(id),
    case_id TEXT NOT NULL,
    task TEXT NOT NULL,
    dimension TEXT NOT NULL,
    format TEXT NOT NULL,
    specialty TEXT NOT NULL,
    difficulty TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    case_json TEXT NOT NULL,
    PRIMARY KEY (run_id, case_id)
  );
  CREATE TABLE responses (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id),
    case_id TEXT NOT NULL,
    variant TEXT NOT NULL DEFAULT '',
    repeat INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL CHECK (status IN ('ok', 'error')),
    messages_json TEXT NOT NULL,
    answer TEXT,
    reasoning TEXT,
    raw_json TEXT,
    model TEXT,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    latency_ms INTEGER,
    error TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (run_id, case_id, variant, repeat)
  );
  CREATE TABLE judgment_sets (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id),
    label TEXT NOT NULL,
    judges_json TEXT NOT NULL,
    prompt_version TEXT NOT NULL,
    prompt_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (run_id, label)
  );
  CREATE TABLE judgments (
    id INTEGER PRIMARY KEY,
    set_id INTEGER NOT NULL REFERENCES judgment_sets(id),
    response_id INTEGER NOT NULL REFERENCES responses(id),
    judge TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    result REAL,
    reasoning REAL,
    approach REAL,
    safety TEXT CHECK (safety IN ('ok', 'minor', 'critical')),
    verdict_json TEXT,
    raw_json TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    error TEXT,
    prompt_hash TEXT NOT NULL,
    temperature REAL,
    seed INTEGER,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    latency_ms INTEGER,
    created_at TEXT NOT NULL,
    UNIQUE (set_id, response_id, judge)
  );
  -- Derived by the scoring stage from responses and judgments; recomputed whole, never edited.
  CREATE TABLE scores (
    set_id INTEGER NOT NULL REFERENCES judgment_sets(id),
    run_id TEXT NOT NULL,
    case_id TEXT NOT NULL,
    repeat INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('scored', 'unscored')),
    score REAL,
    objective REAL,
    rubric REAL,
    result REAL,
    reasoning REAL,
    approach REAL,
    safety TEXT,
    detail_json TEXT NOT NULL,
    PRIMARY KEY (set_id, case_id, repeat)
  );
  CREATE TABLE flags (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL,
    set_id INTEGER NOT NULL,
    case_id TEXT NOT NULL,
    repeat INTEGER NOT NULL DEFAULT 0,
    variant TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    UNIQUE (set_id, case_id, repeat, variant, kind)
  );
  CREATE INDEX judgments_response ON judgments(response_id);
  CREATE INDEX flags_run ON flags(run_id, kind);
  ` },
  {
    id: "002-cache",
    sql: `
  -- The response cache is the stored answers themselves: a row's cache_key is a hash of everything that changes the
  -- answer (never the API key, never the run id). A later identical request copies that row instead of calling.
  ALTER TABLE responses ADD COLUMN cache_key TEXT;
  ALTER TABLE responses ADD COLUMN cached INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE responses ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1;
  CREATE INDEX responses_cache ON responses(cache_key) WHERE cache_key IS NOT NULL;
  ALTER TABLE judgments ADD COLUMN cache_key TEXT;
  ALTER TABLE judgments ADD COLUMN cached INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX judgments_cache ON judgments(cache_key) WHERE cache_key IS NOT NULL;
  ` },
  {
    id: "003-judge",
    sql: `
  -- The judge's measured agreement with expert labels for one judgment set (src/stats), kept for reports.
  CREATE TABLE calibrations (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id),
    set_id INTEGER NOT NULL REFERENCES judgment_sets(id),
    source TEXT NOT NULL,
    source_hash TEXT NOT NULL,
    pairs INTEGER NOT NULL,
    result_json TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE INDEX calibrations_run ON calibrations(run_id, set_id);
  ` },
  {
    id: "004-review",
    sql: `
  -- Expert review (src/review): every action is one appended row; the current state of an item is derived from them.
  -- Item actions (accept, override, skip, adjudicate) name a case and repeat; run actions (signoff, reopen) do not.
  -- Axes are 0–10, safety ok/minor/critical, rubric_json {"r1": true, …}; score is the 0–1 case score those values
  -- gave when the action was recorded; set_id is the judgment set reviewed, seen_set_id the set shown to the reviewer.
  CREATE TABLE review_actions (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id),
    set_id INTEGER NOT NULL REFERENCES judgment_sets(id),
    case_id TEXT,
    repeat INTEGER,
    reviewer TEXT NOT NULL CHECK (length(trim(reviewer)) > 0),
    action TEXT NOT NULL CHECK (action IN ('accept', 'override', 'skip', 'adjudicate', 'signoff', 'reopen')),
    result REAL CHECK (result IS NULL OR (result >= 0 AND result <= 10)),
    reasoning REAL CHECK (reasoning IS NULL OR (reasoning >= 0 AND reasoning <= 10)),
    approach REAL CHECK (approach IS NULL OR (approach >= 0 AND approach <= 10)),
    safety TEXT CHECK (safety IS NULL OR safety IN ('ok', 'minor', 'critical')),
    rubric_json TEXT,
    score REAL,
    comment TEXT,
    seen_set_id INTEGER,
    source TEXT NOT NULL,
    detail_json TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    CHECK ((action IN ('signoff', 'reopen')) = (case_id IS NULL))
  );
  CREATE INDEX review_actions_item ON review_actions(run_id, case_id, repeat);
  CREATE TRIGGER review_actions_no_update BEFORE UPDATE ON review_actions
    BEGIN SELECT RAISE(ABORT, 'review_actions is an append-only audit log: rows cannot be updated'); END;
  CREATE TRIGGER review_actions_no_delete BEFORE DELETE ON review_actions
    BEGIN SELECT RAISE(ABORT, 'review_actions is an append-only audit log: rows cannot be deleted'); END;
  -- Read-only views for reports: every expert decision on an item (not necessarily final: use src/review/state.ts
  -- finalCaseScores for that), and the sign-offs still in force (not followed by a reopen).
  CREATE VIEW reviews AS
    SELECT id, run_id, set_id, case_id, repeat, reviewer, action, result, reasoning, approach, safety, score, comment, created_at
    FROM review_actions WHERE action IN ('accept', 'override', 'adjudicate');
  CREATE VIEW signoffs AS
    SELECT a.id AS rowid, a.id, a.run_id, a.set_id, a.reviewer, a.comment, a.created_at FROM review_actions a
    WHERE a.action = 'signoff'
      AND NOT EXISTS (SELECT 1 FROM review_actions b WHERE b.run_id = a.run_id AND b.action = 'reopen' AND b.id > a.id);
  ` },
];
