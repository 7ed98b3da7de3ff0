import { Command } from "commander";
import { openDatabase } from "../../store/db.js";
import { cacheStats, clearCache, type CacheRole } from "../../runner/cache.js";
import { printJson, table } from "../output.js";
import { DEFAULT_DB } from "./run.js";
import { UserError } from "../../util/errors.js";

export function cacheCommand(): Command {
  const stats = new Command("stats")
    .description("How many stored replies can answer a repeated request, and how many were answered so, by role")
    .option("--db <file>", "database file", DEFAULT_DB)
    .option("--json", "print JSON")
    .addHelpText("after", "\nExample:\n  $ medeval cache stats --db reports/medeval.sqlite")
    .action((f: { db: string; json?: boolean }) => {
      const db = openDatabase(f.db);
      try {
        const rows = cacheStats(db);
        if (f.json) printJson(rows);
        else console.log(table(["role", "cached replies", "answered from cache"], rows.map((r) => [r.role, String(r.entries), String(r.hits)]), [1, 2]));
      } finally {
        db.close();
      }
    });
  const clear = new Command("clear")
    .description("Forget the cache (all, or one role): the next run calls the models again; stored runs are untouched")
    .option("--db <file>", "database file", DEFAULT_DB)
    .option("--role <role>", "candidate or judge")
    .addHelpText("after", "\nExample:\n  $ medeval cache clear --role judge")
    .action((f: { db: string; role?: string }) => {
      if (f.role && !["candidate", "judge"].includes(f.role)) throw new UserError(`--role: expected candidate or judge, got "${f.role}"`);
      const db = openDatabase(f.db);
      try {
        const n = clearCache(db, f.role as CacheRole | undefined);
        console.log(`forgot ${n} cached repl${n === 1 ? "y" : "ies"}`);
      } finally {
        db.close();
      }
    });
  return new Command("cache").description("Inspect or clear the response cache").addCommand(stats).addCommand(clear);
}
