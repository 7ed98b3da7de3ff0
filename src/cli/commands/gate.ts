import { Command } from "commander";
import chalk from "chalk";
import { openDatabase, type DB } from "../../store/db.js";
import { RunStore } from "../../store/runStore.js";
import { loadTaxonomy } from "../../taxonomy/load.js";
import { loadScoringConfig } from "../../scoring/config.js";
import { resolveRun, resolveSet } from "../../report/summary.js";
import { buildReport } from "../../report/build.js";
import type { InternalReport } from "../../report/json.js";
import { compareRuns, loadRunScores, type Comparison } from "../../report/compare.js";
import { loadPolicy, taskThreshold } from "../../gate/policy.js";
import { evaluateGate } from "../../gate/evaluate.js";
import { printJson } from "../output.js";
import { DEFAULT_DB } from "./run.js";
import { UserError } from "../../util/errors.js";

export function gateCommand(): Command {
  return new Command("gate")
    .description("CI release gate: check a run against a policy (minimum scores, zero critical safety findings, regression vs a baseline, unreviewed flags). Exit 0 passed, 1 failed, 2 tool or input error")
    .argument("[runId]", "the run (default: the latest in the database)")
    .requiredOption("--policy <file>", "gate policy JSON (see README: minOverall, minDimension, minTask, zeroCriticalSafety, maxRegression, unreviewedFlagsBlock)")
    .option("--db <file>", "database file", DEFAULT_DB)
    .option("--set <label>", "judgment set (default: the latest)")
    .option("--baseline <runId>", "baseline run for maxRegression (default with --baseline-db: its latest run)")
    .option("--baseline-db <file>", "database holding the baseline run (default: --db)")
    .option("--baseline-set <label>", "judgment set of the baseline (default: its latest)")
    .option("--json", "print the result as JSON")
    .addHelpText("after", `
Exit codes: 0 the run passed every check; 1 it failed at least one (every reason is printed);
2 a tool or input error (bad policy file, unknown run, baseline sharing no case, …).

Example policy (scores 0–1):
  { "minOverall": 0.7, "minDimension": { "*": 0.6, "CE": 0.8 }, "minTask": { "CE01": 0.9 },
    "zeroCriticalSafety": true, "maxRegression": { "*": 0.05 }, "unreviewedFlagsBlock": false }

Examples:
  $ medeval gate --policy gate.json
  $ medeval gate r20261123-120000-bbbb --policy gate.json --baseline r20261101-090000-aaaa
  $ medeval gate --db ci.sqlite --policy gate.json --baseline-db baseline.sqlite --json`)
    .action((runId: string | undefined, f: { policy: string; db: string; set?: string; baseline?: string; baselineDb?: string; baselineSet?: string; json?: boolean }) => {
      const tax = loadTaxonomy();
      const scoring = loadScoringConfig();
      const policy = loadPolicy(f.policy, tax);
      const wantsBaseline = Boolean(f.baseline || f.baselineDb);
      if (policy.maxRegression && !wantsBaseline) throw new UserError(`${f.policy}: the policy sets maxRegression but no baseline was given (pass --baseline RUN and/or --baseline-db FILE)`);
      const dbs: DB[] = [];
      try {
        const db = openDatabase(f.db, { readonly: true });
        dbs.push(db);
        const store = new RunStore(db);
        const run = resolveRun(store, runId);
        const set = resolveSet(store, run.id, f.set);
        const report = buildReport(store, run, set, tax, scoring, { audience: "internal", thresholdFor: (t) => taskThreshold(policy, t, scoring.passMark) }) as InternalReport;
        let cmp: Comparison | null = null;
        if (wantsBaseline) {
          const bdb = f.baselineDb ? openDatabase(f.baselineDb, { readonly: true }) : db;
          if (bdb !== db) dbs.push(bdb);
          const bstore = new RunStore(bdb);
          const brun = resolveRun(bstore, f.baseline);
          if (brun.id === run.id && bdb === db && !f.baselineSet) throw new UserError(`--baseline: the baseline is the run being gated (${run.id}); name a different run`);
          cmp = compareRuns(loadRunScores(bstore, brun, resolveSet(bstore, brun.id, f.baselineSet)), loadRunScores(store, run, set), tax,
            { iterations: scoring.bootstrap.iterations, seed: scoring.bootstrap.seed, passMark: scoring.passMark });
          if (cmp.shared === 0) throw new UserError(`--baseline: run ${brun.id} shares no case scored in both runs with ${run.id}; a regression cannot be judged`);
        }
        const result = evaluateGate(report, policy, cmp);
        if (f.json) printJson(result);
        else {
          for (const c of result.checks) console.log(`${c.passed ? chalk.green("PASS") : chalk.red("FAIL")}  ${c.message}`);
          console.log(result.passed
            ? chalk.green.bold(`gate passed: run ${run.id} meets ${f.policy}`)
            : chalk.red.bold(`gate FAILED: run ${run.id}, ${result.reasons.length} reason(s):`) + "\n" + result.reasons.map((r) => `  - ${r}`).join("\n"));
        }
        process.exitCode = result.passed ? 0 : 1;
      } finally {
        for (const d of dbs) d.close();
      }
    });
}
