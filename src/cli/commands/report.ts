import { Command } from "commander";
import { writeFileSync } from "node:fs";
import { openDatabase } from "../../store/db.js";
import { RunStore } from "../../store/runStore.js";
import { loadTaxonomy } from "../../taxonomy/load.js";
import { loadScoringConfig } from "../../scoring/config.js";
import { buildSummary, resolveRun, resolveSet } from "../../report/summary.js";
import { renderMarkdown } from "../../report/markdown.js";
import { renderTerminalSummary } from "../../report/terminal.js";
import { printJson, table } from "../output.js";
import { DEFAULT_DB } from "./run.js";
import { UserError } from "../../util/errors.js";

export function reportCommand(): Command {
  return new Command("report")
    .description("Render a stored run's report (terminal summary, Markdown or JSON summary)")
    .argument("[runId]", "the run (default: the latest in the database)")
    .option("--db <file>", "database file", DEFAULT_DB)
    .option("--set <label>", "judgment set (default: the latest)")
    .option("-f, --format <fmt>", "terminal | md | json", "terminal")
    .option("-o, --out <file>", "write to a file instead of standard output")
    .addHelpText("after", "\nExamples:\n  $ medeval report\n  $ medeval report r20261123-120000-ab12 --format md --out report.md")
    .action((runId: string | undefined, f: { db: string; set?: string; format: string; out?: string }) => {
      const db = openDatabase(f.db, { readonly: true });
      try {
        const store = new RunStore(db);
        const tax = loadTaxonomy();
        const run = resolveRun(store, runId);
        const summary = buildSummary(store, run, resolveSet(store, run.id, f.set), tax, loadScoringConfig());
        let text: string;
        if (f.format === "md") text = renderMarkdown(summary, tax);
        else if (f.format === "json") text = JSON.stringify(summary, null, 2) + "\n";
        else if (f.format === "terminal") text = renderTerminalSummary(summary, tax) + "\n";
        else throw new UserError(`--format: unknown format "${f.format}" (expected terminal, md or json)`);
        if (f.out) writeFileSync(f.out, text);
        else process.stdout.write(text);
      } finally {
        db.close();
      }
    });
}

export function runsCommand(): Command {
  return new Command("runs")
    .description("List the runs stored in a database")
    .option("--db <file>", "database file", DEFAULT_DB)
    .option("--json", "print JSON")
    .addHelpText("after", "\nExample:\n  $ medeval runs --db reports/demo.sqlite")
    .action((f: { db: string; json?: boolean }) => {
      const db = openDatabase(f.db, { readonly: true });
      try {
        const runs = new RunStore(db).listRuns();
        if (f.json) {
          printJson(runs.map((r) => ({ id: r.id, status: r.status, profile: r.profile, createdAt: r.created_at, finishedAt: r.finished_at })));
          return;
        }
        console.log(table(["run", "status", "profile", "started", "finished"], runs.map((r) => [r.id, r.status, r.profile ?? "—", r.created_at, r.finished_at ?? "—"])));
      } finally {
        db.close();
      }
    });
}
