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
  -- Model replies keyed on everything that changes the answer (never the API key, never the run id).
  CREATE TABLE cache (
    key TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('candidate', 'judge', 'patient')),
    reply_json TEXT NOT NULL,
    created_at TEXT NOT NULL,
    hits INTEGER NOT NULL DEFAULT 0
  );
  ALTER TABLE responses ADD COLUMN cached INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE responses ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1;
  ALTER TABLE judgments ADD COLUMN cached_calls INTEGER NOT NULL DEFAULT 0;
  ` },
];
