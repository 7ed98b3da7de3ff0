// `medeval datasets import`: converts a public dataset file into validated medeval cases (JSONL).
import { Command, Option } from "commander";
import chalk from "chalk";
import { writeFileSync } from "node:fs";
import { loadTaxonomy } from "../../taxonomy/load.js";
import { formatProblem, IMPORT_FORMATS, runImport, type ImportProblem } from "../../dataset/import/index.js";
import { UserError } from "../../util/errors.js";
import { printJson } from "../output.js";

const NOTES_SHOWN = 20;

const HELP = `
Formats (field names as the datasets publish them):
  healthbench  JSONL: prompt, rubrics, example_tags (theme:* picks the task), prompt_id, ideal_completions_data
  cmb-clin     JSON array or JSONL: id, title, description, QA_pairs — one case per question (default task DA01)
  mcq          CSV or JSON/JSONL multiple choice: options object / opa… / option_A… / A,B,C,D columns /
               one option per line; answer as letters, opa, a 1-based cop or the option text (default task EK02)
  pubmedqa     JSON object keyed by PMID: QUESTION, CONTEXTS, final_decision, LONG_ANSWER (task EK08)
  csv          a spreadsheet saved as CSV (UTF-8, BOM allowed, Chinese headers allowed); needs --format and --task

--map fields: mcq: id, question, options, answer, explanation, task, specialty, difficulty, synthetic, A…J
              csv: the same plus context, rationale, keyPoints, rubric, unit, tolerance

Cases go to stdout (or --out); the report goes to stderr (stdout with --out).
Exit codes: 0 imported with nothing skipped; 1 some records skipped (the rest are still written); 2 unreadable file or bad arguments.

Examples:
  $ medeval datasets import --from healthbench healthbench_eval.jsonl --out hb.jsonl
  $ medeval datasets import --from mcq medmcqa_dev.json --task EK02 --out medmcqa.jsonl
  $ medeval datasets import --from csv 本院病例.csv --format open --task DA01 --map question=问题 --map answer=参考答案 --out cases.jsonl`;

interface ImportOpts {
  from: string;
  task?: string;
  out?: string;
  map: string[];
  format?: string;
  dataset?: string;
  json?: boolean;
}

const collect = (v: string, prev: string[]) => [...prev, v];

function problemJson(p: ImportProblem) {
  return { where: formatProblem({ ...p, field: "", reason: "" }).replace(/: $/, ""), file: p.file, line: p.line, record: p.record, sourceId: p.sourceId, field: p.field, reason: p.reason };
}

export function importCommand(): Command {
  return new Command("import")
    .description("Convert a public dataset (HealthBench, CMB-Clin, exam MCQ, PubMedQA, CSV) into validated medeval cases")
    .argument("<file>", "the dataset file")
    .addOption(new Option("--from <format>", "the file's format").choices(IMPORT_FORMATS).makeOptionMandatory())
    .option("--task <id>", "put every case in this task (overrides the format's own choice)")
    .option("--out <file>", "write the cases here (JSONL) instead of stdout")
    .option("--map <field=column>", "mcq/csv: take a field from this column (repeatable)", collect, [])
    .addOption(new Option("--format <format>", "csv only: the case format").choices(["choice", "open", "numeric"]))
    .option("--dataset <name>", "the dataset's name in provenance and the id prefix (default: the format's dataset, or the file name)")
    .option("--json", "print the report as JSON (with the cases too when there is no --out)")
    .addHelpText("after", HELP)
    // Usage errors reach main's handler (exit 2) instead of commander's own exit(1): subcommands do not inherit it.
    .action((file: string, opts: ImportOpts) => {
      const tax = loadTaxonomy();
      const res = runImport({ from: opts.from, file, tax, task: opts.task, map: opts.map, dataset: opts.dataset, format: opts.format });
      if (res.units === 0) throw new UserError(`${file}: no records found`);
      const jsonl = res.cases.map((c) => JSON.stringify(c)).join("\n") + (res.cases.length ? "\n" : "");
      if (opts.out && res.cases.length) {
        try {
          writeFileSync(opts.out, jsonl);
        } catch (err) {
          throw new UserError(`--out ${opts.out}: cannot write (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
        }
      }
      process.exitCode = res.skipped.length ? 1 : 0;
      if (opts.json) {
        printJson({
          from: res.from, file: res.file, dataset: res.dataset, records: res.units, imported: res.cases.length, skipped: res.skipped.length,
          out: opts.out && res.cases.length ? opts.out : null,
          skips: res.skipped.map(problemJson), notes: res.notes.map(problemJson),
          ...(opts.out ? {} : { cases: res.cases }),
        });
        return;
      }
      if (!opts.out) process.stdout.write(jsonl);
      const say = (s: string) => (opts.out ? process.stdout : process.stderr).write(s + "\n");
      const dest = !res.cases.length ? "nothing written" : opts.out ? `written to ${opts.out}` : "written to stdout";
      say(`${res.dataset}: imported ${res.cases.length} of ${res.units} record(s) from ${file}; skipped ${res.skipped.length}; ${dest}`);
      if (res.skipped.length) {
        say(chalk.red(`skipped (${res.skipped.length}):`));
        for (const p of res.skipped) say(chalk.red(`  ${formatProblem(p)}`));
      }
      if (res.notes.length) {
        say(chalk.yellow(`notes (${res.notes.length}): adjustments made while importing`));
        for (const p of res.notes.slice(0, NOTES_SHOWN)) say(chalk.yellow(`  ${formatProblem(p)}`));
        if (res.notes.length > NOTES_SHOWN) say(chalk.yellow(`  … ${res.notes.length - NOTES_SHOWN} more (--json lists all)`));
      }
      if (res.skipped.length) say(chalk.red(`${res.skipped.length} record(s) not imported: fix them in the source or import them another way (exit 1)`));
    });
}
