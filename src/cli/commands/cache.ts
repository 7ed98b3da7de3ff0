import { Command } from "commander";
import { openDatabase } from "../../store/db.js";
import { ResponseCache } from "../../runner/cache.js";
import { printJson, table } from "../output.js";
import { DEFAULT_DB } from "./run.js";
import { UserError } from "../../util/errors.js";

export function cacheCommand(): Command {
  const stats = new Command("stats")
    .description("Entries, hits and size of the response cache, by role")
    .option("--db <file>", "database file", DEFAULT_DB)
    .option("--json", "print JSON")
    .addHelpText("after", "\nExample:\n  $ medeval cache stats --db reports/medeval.sqlite")
    .action((f: { db: string; json?: boolean }) => {
      const db = openDatabase(f.db);
      try {
        const rows = new ResponseCache(db).stats();
        if (f.json) printJson(rows);
        else console.log(rows.length ? table(["role", "entries", "hits", "bytes"], rows.map((r) => [r.role, String(r.entries), String(r.hits), String(r.bytes)]), [1, 2, 3]) : "the cache is empty");
      } finally {
        db.close();
      }
    });
  const clear = new Command("clear")
    .description("Delete cached replies (all, or one role): the next run calls the models again")
    .option("--db <file>", "database file", DEFAULT_DB)
    .option("--role <role>", "candidate, judge or patient")
    .addHelpText("after", "\nExample:\n  $ medeval cache clear --role judge")
    .action((f: { db: string; role?: string }) => {
      if (f.role && !["candidate", "judge", "patient"].includes(f.role)) throw new UserError(`--role: expected candidate, judge or patient, got "${f.role}"`);
      const db = openDatabase(f.db);
      try {
        const n = new ResponseCache(db).clear(f.role as "candidate" | "judge" | "patient" | undefined);
        console.log(`deleted ${n} cached repl${n === 1 ? "y" : "ies"}`);
      } finally {
        db.close();
      }
    });
  return new Command("cache").description("Inspect or clear the response cache").addCommand(stats).addCommand(clear);
}
