import { Command } from "commander";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { openDatabase } from "../../store/db.js";
import { RunStore } from "../../store/runStore.js";
import { loadTaxonomy } from "../../taxonomy/load.js";
import { loadScoringConfig } from "../../scoring/config.js";
import { buildSummary, resolveRun, resolveSet } from "../../report/summary.js";
import { renderMarkdownReport } from "../../report/markdown.js";
import { buildReport } from "../../report/build.js";
import { renderHtml } from "../../report/html.js";
import { renderJson, type Audience } from "../../report/json.js";
import { renderCsv } from "../../report/csv.js";
import { renderJunit } from "../../report/junit.js";
import { loadPolicy, taskThreshold } from "../../gate/policy.js";
import { renderTerminalSummary } from "../../report/terminal.js";
import { printJson, table } from "../output.js";
import { DEFAULT_DB } from "./run.js";
import { UserError } from "../../util/errors.js";

const FORMATS = ["terminal", "md", "html", "json", "csv", "junit"] as const;
const AUDIENCES = ["internal", "vendor"] as const;

export function reportCommand(): Command {
  return new Command("report")
    .description("Render a stored run's report: terminal summary, Markdown, self-contained HTML, JSON, CSV or JUnit XML, for the centre (internal) or the vendor")
    .argument("[runId]", "the run (default: the latest in the database)")
    .option("--db <file>", "database file", DEFAULT_DB)
    .option("--set <label>", "judgment set (default: the latest)")
    .option("-f, --format <fmt>", FORMATS.join(" | "), "terminal")
    .option("-a, --audience <who>", "internal (everything, incl. case drill-down) | vendor (aggregates and anonymous finding categories only)", "internal")
    .option("--policy <file>", "gate policy whose task thresholds the report applies (default: the pass mark in rubrics/scoring.json)")
    .option("--cases <which>", "html/json drill-down: all | flagged | none (default: all up to 2,000 cases, else the flagged ones, at most 2,000)")
    .option("-o, --out <file>", "write to a file instead of standard output")
    .addHelpText("after", `
Formats: md (PR comment / wiki), html (one self-contained file with a six-dimension radar chart; internal adds a
per-case drill-down), json (validated against the exported zod schema, versioned), csv (one row per case and repeat;
vendor: one row per task; UTF-8 with BOM), junit (a suite per dimension, a test case per task).
The vendor audience never contains case text, references, rubric items, answers or judge rationales.

Examples:
  $ medeval report
  $ medeval report r20261123-120000-ab12 --format md --out report.md
  $ medeval report --format html --audience vendor --out vendor.html
  $ medeval report --format junit --policy gate.json --out junit.xml`)
    .action((runId: string | undefined, f: { db: string; set?: string; format: string; audience: string; policy?: string; cases?: string; out?: string }) => {
      if (f.cases !== undefined && !["all", "flagged", "none"].includes(f.cases)) throw new UserError(`--cases: expected all, flagged or none, got "${f.cases}"`);
      if (!(FORMATS as readonly string[]).includes(f.format)) throw new UserError(`--format: unknown format "${f.format}" (expected ${FORMATS.join(", ")})`);
      if (!(AUDIENCES as readonly string[]).includes(f.audience)) throw new UserError(`--audience: unknown audience "${f.audience}" (expected internal or vendor)`);
      const audience = f.audience as Audience;
      const db = openDatabase(f.db, { readonly: true });
      try {
        const store = new RunStore(db);
        const tax = loadTaxonomy();
        const scoring = loadScoringConfig();
        const run = resolveRun(store, runId);
        const set = resolveSet(store, run.id, f.set);
        let text: string;
        if (f.format === "terminal") {
          text = renderTerminalSummary(buildSummary(store, run, set, tax, scoring), tax) + "\n";
        } else {
          const policy = f.policy ? loadPolicy(f.policy, tax) : undefined;
          // Only html and json show the drill-down; csv has a row per case; md and junit need no case at all.
          const cases = f.format === "csv" ? "all" : f.format === "md" || f.format === "junit" ? "none" : (f.cases as "all" | "flagged" | "none" | undefined);
          const report = buildReport(store, run, set, tax, scoring, { audience, cases, thresholdFor: (t) => taskThreshold(policy, t, scoring.passMark) });
          text = f.format === "md" ? renderMarkdownReport(report)
            : f.format === "html" ? renderHtml(report)
            : f.format === "json" ? renderJson(report)
            : f.format === "csv" ? renderCsv(report)
            : renderJunit(report);
        }
        if (f.out) writeOut(f.out, text);
        else process.stdout.write(text);
      } finally {
        db.close();
      }
    });
}

function writeOut(file: string, text: string): void {
  try {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    writeFileSync(file, text);
  } catch (err) {
    throw new UserError(`--out ${file}: cannot write the report (${(err as Error).message})`);
  }
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
