import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { MIGRATIONS } from "./migrations.js";
import { UserError } from "../util/errors.js";

export type DB = Database.Database;

/** Opens (creating if needed) a run database: WAL so a report can read while a run writes. */
export function openDatabase(file: string, opts: { readonly?: boolean } = {}): DB {
  let db: DB;
  try {
    if (!opts.readonly) mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  } catch (err) {
    throw new UserError(`${file}: cannot open the database (${(err as Error).message})`);
  }
  db.pragma("busy_timeout = 10000");
  if (!opts.readonly) {
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    migrate(db, file);
    // Tests stand in for a full disk by capping the database's pages (SQLite then fails writes with SQLITE_FULL).
    if (process.env.MEDEVAL_TEST_MAX_PAGES) db.pragma(`max_page_count = ${Number(process.env.MEDEVAL_TEST_MAX_PAGES)}`);
  }
  return db;
}

function migrate(db: DB, file: string): void {
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at TEXT NOT NULL)");
  const applied = new Set((db.prepare("SELECT id FROM schema_migrations").all() as { id: string }[]).map((r) => r.id));
  const known = new Set(MIGRATIONS.map((m) => m.id));
  const unknown = [...applied].filter((id) => !known.has(id));
  if (unknown.length) {
    throw new UserError(`${file}: the database has schema migrations this medeval does not know (${unknown.join(", ")}); upgrade medeval`);
  }
  for (const m of MIGRATIONS) {
    if (applied.has(m.id)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare("INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)").run(m.id, nowIso());
    })();
  }
}

export function nowIso(): string {
  return new Date().toISOString();
}

/** Preparing a statement costs more than running it: prepare each SQL text once per connection user. */
export function statementCache(db: DB): (sql: string) => Database.Statement {
  const statements = new Map<string, Database.Statement>();
  return (sql) => {
    let st = statements.get(sql);
    if (!st) statements.set(sql, (st = db.prepare(sql)));
    return st;
  };
}
