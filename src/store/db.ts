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
  }
  return db;
}

function migrate(db: DB, file: string): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new UserError(`${file}: database schema version ${current} is newer than this medeval understands (${MIGRATIONS.length}); upgrade medeval`);
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

export function nowIso(): string {
  return new Date().toISOString();
}
