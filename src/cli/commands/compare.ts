import { Command } from "commander";
import { openDatabase, type DB } from "../../store/db.js";
import { RunStore } from "../../store/runStore.js";
import { loadTaxonomy } from "../../taxonomy/load.js";
import { loadScoringConfig } from "../../scoring/config.js";
import { resolveRun, resolveSet } from "../../report/summary.js";
import { compareRuns, loadRunScores, renderCompareMarkdown, renderCompareTerminal } from "../../report/compare.js";
import { printJson } from "../output.js";
import { DEFAULT_DB } from "./run.js";
import { UserError } from "../../util/errors.js";

const FORMATS = ["terminal", "md", "json"];

export function compareCommand(): Command {
  return new Command("compare")
    .description("Compare two runs (or two judgment sets of one run) over the cases both share: per-task and per-dimension deltas with paired bootstrap intervals, and cases that flipped between pass and fail")
    .argument("<runA>", "the earlier run (A, e.g. the baseline)")
    .argument("<runB>", "the later run (B); deltas are B − A")
    .option("--db <file>", "database holding run A (and run B unless --db-b)", DEFAULT_DB)
    .option("--db-b <file>", "a second database holding run B")
    .option("--set-a <label>", "judgment set of run A (default: its latest)")
    .option("--set-b <label>", "judgment set of run B (default: its latest)")
    .option("-f, --format <fmt>", FORMATS.join(" | "), "terminal")
    .option("--json", "same as --format json")
    .addHelpText("after", `
A change is marked ▲/▼ when its 95 % paired bootstrap interval excludes zero (seeded: same inputs, same interval).
Only cases present in both runs with identical content and scored in both count.

Examples:
  $ medeval compare r20261101-090000-aaaa r20261123-120000-bbbb
  $ medeval compare rOLD rNEW --db old.sqlite --db-b new.sqlite --format md > compare.md
  $ medeval compare rX rX --set-a default --set-b rejudge-gpt   # two judge sets on one run`)
    .action((runA: string, runB: string, f: { db: string; dbB?: string; setA?: string; setB?: string; format: string; json?: boolean }) => {
      const format = f.json ? "json" : f.format;
      if (!FORMATS.includes(format)) throw new UserError(`--format: unknown format "${format}" (expected ${FORMATS.join(", ")})`);
      const dbs: DB[] = [];
      try {
        const dbA = openDatabase(f.db, { readonly: true });
        dbs.push(dbA);
        const dbB = f.dbB ? openDatabase(f.dbB, { readonly: true }) : dbA;
        if (dbB !== dbA) dbs.push(dbB);
        const tax = loadTaxonomy();
        const scoring = loadScoringConfig();
        const sa = new RunStore(dbA);
        const sb = new RunStore(dbB);
        const ra = resolveRun(sa, runA);
        const rb = resolveRun(sb, runB);
        const A = loadRunScores(sa, ra, resolveSet(sa, ra.id, f.setA));
        const B = loadRunScores(sb, rb, resolveSet(sb, rb.id, f.setB));
        const cmp = compareRuns(A, B, tax, { iterations: scoring.bootstrap.iterations, seed: scoring.bootstrap.seed, passMark: scoring.passMark });
        if (cmp.shared === 0) throw new UserError(`runs ${ra.id} and ${rb.id} share no case scored in both (only in A ${cmp.onlyA}, only in B ${cmp.onlyB}, changed content ${cmp.changedContent.length}); nothing to compare`);
        if (format === "json") printJson(cmp);
        else process.stdout.write((format === "md" ? renderCompareMarkdown(cmp, tax) : renderCompareTerminal(cmp, tax) + "\n"));
      } finally {
        for (const d of dbs) d.close();
      }
    });
}
