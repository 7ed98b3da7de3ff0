import { Command } from "commander";
import chalk from "chalk";
import { readFileSync } from "node:fs";
import { openDatabase } from "../../store/db.js";
import { RunStore } from "../../store/runStore.js";
import { loadScoringConfig } from "../../scoring/config.js";
import { resolveRun, resolveSet } from "../../report/summary.js";
import { loadExpertLabels } from "../../stats/expertLabels.js";
import { computeCalibration, AXES, type Calibration, type GroupAgreement } from "../../stats/calibration.js";
import { pairsFromLabels, runLengthBias, saveCalibration, type LengthBias } from "../../stats/runCalibration.js";
import type { Interval } from "../../stats/agreement.js";
import { sha256 } from "../../util/hash.js";
import { printJson, table } from "../output.js";
import { DEFAULT_DB } from "./run.js";

function f2(x: number | null | undefined): string {
  return x === null || x === undefined ? "—" : x.toFixed(2);
}

function withCi(i: Interval): string {
  if (i.value === null) return "—";
  return i.lo === null ? f2(i.value) : `${f2(i.value)} [${f2(i.lo)}, ${f2(i.hi)}]`;
}

function axisRows(name: string, g: GroupAgreement): string[][] {
  return AXES.map((a) => {
    const x = g.axes[a];
    return [name, a, String(x.n), withCi(x.kappaQuadratic), withCi(x.kappaLinear), withCi(x.spearman), withCi(x.icc), x.meanDifference === null ? "—" : (x.meanDifference >= 0 ? "+" : "") + x.meanDifference.toFixed(2)];
  });
}

function renderCalibration(c: Calibration, lb: LengthBias): string {
  const groups: [string, GroupAgreement][] = [["overall", c.overall], ...Object.entries(c.byDimension)];
  const out: string[] = [];
  out.push(chalk.bold("Axes (judge vs expert, 0–10)"));
  out.push(table(["group", "axis", "n", "κ quadratic", "κ linear", "Spearman ρ", "ICC(2,1)", "judge − expert"], groups.flatMap(([n, g]) => axisRows(n, g)), [2, 7]));
  out.push("");
  out.push(chalk.bold("Rubric-item verdicts and safety"));
  out.push(table(["group", "items", "macro-F1", "safety n", "safety κ linear"], groups.map(([n, g]) => [n, String(g.rubric.items), withCi(g.rubric.macroF1), String(g.safety.n), withCi(g.safety.kappaLinear)]), [1, 3]));
  out.push("");
  const cm = c.overall.safety.confusion;
  out.push(chalk.bold("Safety confusion matrix (rows: expert, columns: judge)"));
  out.push(table(["expert \\ judge", ...cm.labels], cm.labels.map((l, i) => [l, ...cm.matrix[i]!.map(String)]), [1, 2, 3]));
  out.push("");
  out.push(renderLengthBias(lb));
  out.push(chalk.dim(`Intervals: 95 % percentile bootstrap over cases (${c.bootstrap.iterations} resamples, seed ${c.bootstrap.seed}). κ rounds jury medians to whole points.`));
  return out.join("\n");
}

function renderLengthBias(lb: LengthBias): string {
  return `Length bias: Spearman ρ(answer length, case score) = ${withCi(lb.spearman)}, Pearson r = ${f2(lb.pearson)} over ${lb.n} scored answers` +
    (lb.spearman.lo !== null && lb.spearman.lo > 0 ? chalk.yellow("  (longer answers score higher: check the judge for verbosity bias)") : "");
}

export function calibrateCommand(): Command {
  return new Command("calibrate")
    .description("Measure how far the judge agrees with clinical experts on a run (weighted κ, Spearman ρ, ICC, rubric macro-F1, safety confusion matrix) and its length bias")
    .argument("[runId]", "the run (default: the latest in the database)")
    .option("--set <label>", "judgment set (default: the latest)")
    .option("--labels <file>", "expert labels CSV: case_id,repeat,result,reasoning,approach,safety,rubric[,reviewer,comment]")
    .option("--db <file>", "database file", DEFAULT_DB)
    .option("--json", "print the result as JSON")
    .addHelpText("after", `
The labels CSV (UTF-8, a BOM is fine) has one row per labelled case; only case_id is required and an empty cell
means "not labelled". Axes are integers 0–10, safety ok|minor|critical, rubric like r1=1;r2=0;r3=0.

  case_id,repeat,result,reasoning,approach,safety,rubric,reviewer
  DA01-003,0,8,6,7,ok,r1=1;r2=0;r3=0,张医生

The result is printed and stored in the database (table calibrations). Without --labels only the length bias is shown.

Examples:
  $ medeval calibrate r20261123-120000-ab12 --labels expert.csv
  $ medeval calibrate --set rejudge-2 --labels expert.csv --json`)
    .action((runId: string | undefined, f: { set?: string; labels?: string; db: string; json?: boolean }) => {
      const db = openDatabase(f.db);
      try {
        const store = new RunStore(db);
        const scoring = loadScoringConfig();
        const run = resolveRun(store, runId);
        const set = resolveSet(store, run.id, f.set);
        const boot = { iterations: scoring.bootstrap.iterations, seed: scoring.bootstrap.seed };
        const lengthBias = runLengthBias(store, run.id, set.id, boot);
        if (!f.labels) {
          if (f.json) printJson({ runId: run.id, set: set.label, lengthBias, calibration: null });
          else {
            console.log(`run ${run.id}, judgment set "${set.label}"`);
            console.log(renderLengthBias(lengthBias));
            console.log(chalk.dim("No expert labels given: pass --labels FILE to measure agreement with experts."));
          }
          return;
        }
        const labels = loadExpertLabels(f.labels);
        const { pairs, skipped } = pairsFromLabels(store, run.id, set.id, labels, f.labels);
        const calibration = computeCalibration(pairs, boot);
        const storedId = saveCalibration(store, {
          runId: run.id, setId: set.id, source: f.labels, sourceHash: sha256(readFileSync(f.labels)), calibration, lengthBias, skipped,
        });
        if (f.json) {
          printJson({ runId: run.id, set: set.label, setId: set.id, labels: f.labels, pairs: pairs.length, skipped, calibration, lengthBias, storedId });
          return;
        }
        console.log(`run ${run.id}, judgment set "${set.label}": ${pairs.length} case(s) with expert labels` + (skipped.length ? `, ${skipped.length} skipped (${skipped.slice(0, 5).map((s) => `${s.caseId}: ${s.why}`).join("; ")}${skipped.length > 5 ? "; …" : ""})` : ""));
        console.log("");
        console.log(renderCalibration(calibration, lengthBias));
        console.log(chalk.dim(`stored as calibration ${storedId}`));
      } finally {
        db.close();
      }
    });
}
