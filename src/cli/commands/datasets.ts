import { Command } from "commander";
import chalk from "chalk";
import { loadTaxonomy } from "../../taxonomy/load.js";
import { loadDatasets } from "../../dataset/load.js";
import { datasetStats } from "../../dataset/stats.js";
import { formatIssue } from "../../util/errors.js";
import { projectPath } from "../../util/paths.js";
import { printJson, table } from "../output.js";
import { importCommand } from "./datasetsImport.js";

const DEFAULT_DATASETS = [projectPath("datasets", "cases")];

function validateCommand(): Command {
  return new Command("validate")
    .description("Check case files: every problem is printed with file, line, field and what was expected")
    .argument("[paths...]", "JSONL files or folders", DEFAULT_DATASETS)
    .option("--json", "print the result as JSON")
    .option("--strict", "treat warnings as errors")
    .addHelpText("after", "\nExit codes: 0 valid, 1 invalid, 2 unreadable path.\n\nExample:\n  $ medeval datasets validate datasets/cases/DA my-cases.jsonl")
    .action(async (paths: string[], opts: { json?: boolean; strict?: boolean }) => {
      const tax = loadTaxonomy();
      const res = await loadDatasets(paths, tax);
      const errors = res.issues.filter((i) => i.severity === "error" || opts.strict);
      const warnings = res.issues.filter((i) => i.severity === "warning" && !opts.strict);
      if (opts.json) {
        printJson({ valid: errors.length === 0, cases: res.cases.length, files: res.files, errors, warnings });
      } else {
        for (const i of errors) console.log(chalk.red(formatIssue({ ...i, severity: "error" })));
        for (const i of warnings) console.log(chalk.yellow(formatIssue(i)));
        const summary = `${res.cases.length} valid case(s) in ${res.files.length} file(s); ${errors.length} error(s), ${warnings.length} warning(s)`;
        console.log(errors.length ? chalk.red(summary) : chalk.green(summary));
      }
      process.exitCode = errors.length ? 1 : 0;
    });
}

function statsCommand(): Command {
  return new Command("stats")
    .description("Count cases by dimension, task, format, source, difficulty and specialty; list tasks with no cases")
    .argument("[paths...]", "JSONL files or folders", DEFAULT_DATASETS)
    .option("--json", "print JSON")
    .addHelpText("after", "\nExample:\n  $ medeval datasets stats --json | jq .tasksWithoutCases")
    .action(async (paths: string[], opts: { json?: boolean }) => {
      const tax = loadTaxonomy();
      const res = await loadDatasets(paths, tax);
      const s = datasetStats(res.cases, tax);
      const invalid = res.issues.filter((i) => i.severity === "error").length;
      if (opts.json) {
        printJson({ ...s, invalidLines: invalid });
        return;
      }
      const kv = (title: string, m: Record<string, number>) =>
        `${chalk.bold(title)}: ` + Object.entries(m).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(", ");
      console.log(`${s.cases} case(s), ${s.synthetic} synthetic${invalid ? chalk.red(`; ${invalid} invalid line(s) skipped (run datasets validate)`) : ""}`);
      const rows = tax.dimensions.map((d) => {
        const tasks = tax.tasks.filter((t) => t.dimension === d.id);
        return [d.id, d.zh, String(s.byDimension[d.id] ?? 0), tasks.map((t) => `${t.id.slice(2)}:${s.byTask[t.id] ?? 0}`).join(" ")];
      });
      console.log(table(["dim", "中文", "cases", "cases per task"], rows, [2]));
      console.log(kv("format", s.byFormat));
      console.log(kv("source", s.bySource));
      console.log(kv("difficulty", s.byDifficulty));
      console.log(kv("specialty", s.bySpecialty));
      console.log(s.tasksWithoutCases.length ? chalk.yellow(`tasks with no cases (${s.tasksWithoutCases.length}): ${s.tasksWithoutCases.join(" ")}`) : chalk.green("every task has cases"));
    });
}

export function datasetsCommand(): Command {
  return new Command("datasets")
    .description("Validate, describe and import case datasets")
    .addCommand(validateCommand())
    .addCommand(statsCommand())
    .addCommand(importCommand());
}
