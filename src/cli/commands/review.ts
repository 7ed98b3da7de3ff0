import { Command, InvalidArgumentError } from "commander";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { openDatabase, type DB } from "../../store/db.js";
import { RunStore } from "../../store/runStore.js";
import { loadTaxonomy, type Taxonomy } from "../../taxonomy/load.js";
import { loadScoringConfig } from "../../scoring/config.js";
import { resolveRun, resolveSet } from "../../report/summary.js";
import { printJson, table, fmtScore } from "../output.js";
import { intArg } from "../parse.js";
import { DEFAULT_DB } from "./run.js";
import { UserError } from "../../util/errors.js";
import { loadReviewConfig } from "../../review/config.js";
import { reviewOverview, statusOf, overviewFinalScores, type ReviewOverview } from "../../review/state.js";
import { itemsFor } from "../../review/select.js";
import { PRIORITY_LABEL } from "../../review/queue.js";
import { reviewSession } from "../../review/session.js";
import { ensureUnlocked } from "../../review/actions.js";
import { exportRows, toCsv, toJsonl, readReviewFile, validateRows, applyPlan } from "../../review/exchange.js";
import { reviewStats } from "../../review/stats.js";
import { signOff } from "../../review/signoff.js";

const reviewerName = z.string().trim().min(1, "give a name").max(64, "at most 64 characters")
  .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), "no control characters");

function reviewerArg(v: string): string {
  const r = reviewerName.safeParse(v);
  if (!r.success) throw new InvalidArgumentError(`expected the reviewer's name: ${r.error.issues[0]!.message}`);
  return r.data;
}

const requiredArg = (v: string) => intArg(1, 2)(v);

interface Common {
  db: string;
  set?: string;
  required?: number;
}

function open(f: Common, runId: string | undefined, write: boolean): { db: DB; tax: Taxonomy; o: ReviewOverview } {
  const db = openDatabase(f.db, { readonly: !write });
  try {
    const store = new RunStore(db);
    const run = resolveRun(store, runId);
    const set = resolveSet(store, run.id, f.set);
    const tax = loadTaxonomy();
    const o = reviewOverview(db, run.id, set.id, { tax, scoring: loadScoringConfig(), cfg: loadReviewConfig(), required: f.required });
    return { db, tax, o };
  } catch (err) {
    db.close();
    throw err;
  }
}


/**
 * `review` and its subcommands share options (--db, --reviewer, …). The top-level parser hands every option after
 * `review` to it, so a subcommand takes the shared ones its parent recognised on the command line.
 */
function withParent<T>(own: T, cmd: Command): T {
  const parent = cmd.parent;
  const fromParent: Record<string, unknown> = {};
  if (parent) for (const [k, v] of Object.entries(parent.opts())) if (parent.getOptionValueSource(k) === "cli") fromParent[k] = v;
  return { ...own, ...fromParent };
}

function common(c: Command): Command {
  return c.option("--db <file>", "database file", DEFAULT_DB)
    .option("--set <label>", "judgment set (default: the latest)")
    .option("--required <n>", "reviewers per item: 1, or 2 for two-reviewer mode (default: rubrics/review.json, or what the run's reviews recorded)", requiredArg);
}

function queueCommand(): Command {
  return common(new Command("queue"))
    .description("What waits for expert review, prioritised: critical safety first, then ★ tasks, then the rest")
    .argument("[runId]", "the run (default: the latest in the database)")
    .option("--reviewer <name>", "only what this reviewer still has to do", reviewerArg)
    .option("--adjudicate", "only items whose two reviews disagree")
    .option("--flag <kind>", "only items with this flag (e.g. critical-safety, lucky-guess, audit-sample)")
    .option("--task <id>", "only items of this task (e.g. WF05)")
    .option("--all", "include items that already have a final review")
    .option("--json", "print JSON")
    .addHelpText("after", "\nExamples:\n  $ medeval review queue r20261123-120000-ab12\n  $ medeval review queue r20261123-120000-ab12 --reviewer 张医生 --flag critical-safety --json")
    .action((runId: string | undefined, own: Common & { reviewer?: string; adjudicate?: boolean; flag?: string; task?: string; all?: boolean; json?: boolean }, cmd: Command) => {
      const f = withParent(own, cmd);
      const { db, o } = open(f, runId, false);
      try {
        const items = f.all ? o.queue.filter((q) => (!f.flag || q.reasons.some((r) => r.kind === f.flag)) && (!f.task || q.task === f.task.toUpperCase()))
          : itemsFor(o, { reviewer: f.reviewer, adjudicate: f.adjudicate, flag: f.flag, task: f.task });
        const { review } = overviewFinalScores(o);
        const rows = items.map((q) => {
          const st = o.states.get(q.key);
          return {
            caseId: q.caseId, repeat: q.repeat, task: q.task, star: q.star, priority: PRIORITY_LABEL[q.priority], status: statusOf(o, q.key),
            reviewers: (st?.decisions ?? []).map((d) => d.reviewer), reasons: q.reasons,
          };
        });
        if (f.json) {
          printJson({ runId: o.ctx.runId, setId: o.ctx.setId, review, items: rows });
          return;
        }
        console.log(`run ${o.ctx.runId}: ${review.required} queued, ${review.pending} pending (${review.needsAdjudication} need adjudication), ${review.reviewed} reviewed, ${review.overridden} overridden; reviewers per item ${review.reviewersPerItem}${review.signedOff ? `; signed off by ${review.signedOff.by} at ${review.signedOff.at}` : ""}`);
        if (!rows.length) {
          console.log(f.reviewer ? `nothing waits for ${f.reviewer}` : "nothing waits");
          return;
        }
        console.log(table(["#", "priority", "case", "rep", "task", "status", "reviewers", "why"],
          rows.map((r, i) => [String(i + 1), r.priority, r.caseId, String(r.repeat), r.task + (r.star ? " ★" : ""), r.status, r.reviewers.join(",") || "—", [...new Set(r.reasons.map((x) => x.kind))].join(", ")]), [0, 3]));
      } finally {
        db.close();
      }
    });
}

function exportCommand(): Command {
  return common(new Command("export"))
    .description("Write the review queue as CSV (UTF-8 with BOM for Excel, formula cells escaped) or JSONL, to fill in offline")
    .argument("[runId]", "the run (default: the latest in the database)")
    .option("--format <fmt>", "csv | jsonl", "csv")
    .option("--zh-headers", "Chinese column headers (CSV)")
    .option("-o, --out <file>", "write to a file instead of standard output")
    .option("--reviewer <name>", "only what this reviewer still has to do", reviewerArg)
    .option("--adjudicate", "only items whose two reviews disagree")
    .option("--all", "every queued item, also those already final")
    .addHelpText("after", "\nFill in the columns decision (accept | override | skip), result, reasoning, approach (0–10), safety (ok | minor | critical),\nrubric (e.g. r1=y; r2=n) and comment, then read it back with `medeval review import`.\n\nExamples:\n  $ medeval review export r20261123-120000-ab12 --reviewer 张医生 --zh-headers --out review.csv\n  $ medeval review export r20261123-120000-ab12 --format jsonl --out review.jsonl")
    .action((runId: string | undefined, own: Common & { format: string; zhHeaders?: boolean; out?: string; reviewer?: string; adjudicate?: boolean; all?: boolean }, cmd: Command) => {
      const f = withParent(own, cmd);
      if (f.format !== "csv" && f.format !== "jsonl") throw new UserError(`--format: expected csv or jsonl, got "${f.format}"`);
      const { db, tax, o } = open(f, runId, false);
      try {
        const items = f.all ? o.queue : itemsFor(o, { reviewer: f.reviewer, adjudicate: f.adjudicate });
        const rows = exportRows(o, tax, items);
        const text = f.format === "csv" ? toCsv(rows, Boolean(f.zhHeaders)) : toJsonl(rows);
        if (f.out) {
          writeFileSync(f.out, text);
          process.stderr.write(`${rows.length} item(s) written to ${f.out}\n`);
        } else process.stdout.write(text);
      } finally {
        db.close();
      }
    });
}

function importCommand(): Command {
  return common(new Command("import"))
    .description("Read a filled-in review file back; every row is validated first, and nothing is applied from a file with errors unless --partial")
    .argument("<runId>", "the run the file belongs to")
    .argument("<file>", "the CSV or JSONL written by `medeval review export`")
    .option("--reviewer <name>", "who made the decisions in the file (required)", reviewerArg)
    .option("--format <fmt>", "csv | jsonl (default: from the file name)")
    .option("--partial", "apply the valid rows even when others have errors (exit 1)")
    .option("--adjudicate", "the file holds a third reviewer's adjudications")
    .option("--reopen <reason>", "change a signed-off run (the reopening is recorded with this reason)")
    .addHelpText("after", "\nExamples:\n  $ medeval review import r20261123-120000-ab12 review.csv --reviewer 张医生\n  $ medeval review import r20261123-120000-ab12 review.csv --reviewer 王医生 --adjudicate")
    .action((runId: string, file: string, own: Common & { reviewer?: string; format?: string; partial?: boolean; adjudicate?: boolean; reopen?: string }, cmd: Command) => {
      const f = withParent(own, cmd);
      if (!f.reviewer) throw new UserError("--reviewer: say whose decisions the file holds, e.g. --reviewer 张医生");
      const reviewer = f.reviewer;
      const format = f.format ?? (file.toLowerCase().endsWith(".jsonl") ? "jsonl" : "csv");
      if (format !== "csv" && format !== "jsonl") throw new UserError(`--format: expected csv or jsonl, got "${format}"`);
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch (err) {
        throw new UserError(`${file}: cannot read the file (${(err as Error).message})`);
      }
      const { db, o } = open(f, runId, true);
      try {
        const read = readReviewFile(file, text, format);
        if (read.problems.length) throw new UserError(`${read.problems.join("\n")}\nnothing was applied`);
        const { plan, errors, blank } = validateRows(o, file, read.rows, read.label, { reviewer, adjudicate: Boolean(f.adjudicate) });
        if (errors.length && !f.partial) throw new UserError(`${errors.join("\n")}\n${errors.length} error(s); nothing was applied (fix the rows, or pass --partial to apply the ${plan.length} valid one(s))`);
        ensureUnlocked(db, o.ctx.runId, o.ctx.setId, reviewer, f.reopen, `import:${path.basename(file)}`);
        const r = applyPlan(o, loadScoringConfig(), plan, { reviewer, adjudicate: Boolean(f.adjudicate), source: `import:${path.basename(file)}` });
        console.log(`${file}: ${r.applied} decision(s) recorded for ${reviewer}, ${r.unchanged} unchanged, ${blank} row(s) left blank${errors.length ? `, ${errors.length} row error(s) not applied` : ""}`);
        if (errors.length) {
          process.stderr.write(errors.join("\n") + "\n");
          process.exitCode = 1;
        }
      } finally {
        db.close();
      }
    });
}

function statsCommand(): Command {
  return common(new Command("stats"))
    .description("Review progress and agreement: inter-reviewer weighted κ per axis and for safety, and the judge against the experts")
    .argument("[runId]", "the run (default: the latest in the database)")
    .option("--json", "print JSON")
    .addHelpText("after", "\nExample:\n  $ medeval review stats r20261123-120000-ab12 --json")
    .action((runId: string | undefined, own: Common & { json?: boolean }, cmd: Command) => {
      const f = withParent(own, cmd);
      const { db, o } = open(f, runId, false);
      try {
        const s = reviewStats(o);
        if (f.json) {
          printJson(s);
          return;
        }
        const k = (x: number | null) => (x === null ? "—" : x.toFixed(3));
        console.log(`run ${s.runId} (set ${s.setId}): ${s.queued} queued · ${s.byStatus.final} final · ${s.byStatus.partial} with one of two reviews · ${s.byStatus["needs-adjudication"]} need adjudication · ${s.byStatus.pending} pending`);
        console.log(table(["reviewer", "decisions", "overrides", "adjudications", "skips"], Object.entries(s.byReviewer).map(([r, x]) => [r, String(x.decisions), String(x.overrides), String(x.adjudications), String(x.skips)]), [1, 2, 3, 4]));
        console.log(table(["agreement", "n", "κ result", "κ reasoning", "κ approach", "κ safety", "other"], [
          ["reviewer 1 vs 2", String(s.interReviewer.n), k(s.interReviewer.axes.result), k(s.interReviewer.axes.reasoning), k(s.interReviewer.axes.approach), k(s.interReviewer.safety), `${s.interReviewer.agreed} within margin`],
          ["judge vs expert", String(s.judgeVsExpert.n), k(s.judgeVsExpert.axes.result), k(s.judgeVsExpert.axes.reasoning), k(s.judgeVsExpert.axes.approach), k(s.judgeVsExpert.safety), `mean |Δscore| ${fmtScore(s.judgeVsExpert.meanAbsScoreDiff)}`],
        ], [1, 2, 3, 4, 5]));
        console.log("κ: quadratic-weighted on the 0–10 axes, linear on ok < minor < critical; — where undefined (too few items or no spread).");
      } finally {
        db.close();
      }
    });
}

export function reviewCommand(): Command {
  return common(new Command("review"))
    .description("Expert re-review of a run: an interactive session on the terminal (accept the judge, override, skip, back, quit)")
    .argument("[runId]", "the run (default: the latest in the database)")
    .option("--reviewer <name>", "who is reviewing (recorded with every decision)", reviewerArg)
    .option("--adjudicate", "adjudicate items whose two reviews disagree (a third reviewer)")
    .option("--flag <kind>", "only items with this flag")
    .option("--task <id>", "only items of this task")
    .option("--reopen <reason>", "review a signed-off run (the reopening is recorded with this reason)")
    .enablePositionalOptions()
    .addHelpText("after", "\nKeys: a accept the judge's scores · o override (axes 0–10, safety, rubric items, comment) · s skip · b back · f full text · q quit.\nEvery decision is saved at once; run the same command again to continue where you stopped.\n\nExamples:\n  $ medeval review r20261123-120000-ab12 --reviewer 张医生\n  $ medeval review r20261123-120000-ab12 --reviewer 王医生 --adjudicate\n  $ medeval review queue r20261123-120000-ab12\n  $ medeval signoff r20261123-120000-ab12 --reviewer 主任")
    .addCommand(queueCommand())
    .addCommand(exportCommand())
    .addCommand(importCommand())
    .addCommand(statsCommand())
    .action(async (runId: string | undefined, f: Common & { reviewer?: string; adjudicate?: boolean; flag?: string; task?: string; reopen?: string }) => {
      if (!f.reviewer) throw new UserError("--reviewer: say who is reviewing, e.g. --reviewer 张医生");
      const { db, tax, o } = open(f, runId, true);
      try {
        ensureUnlocked(db, o.ctx.runId, o.ctx.setId, f.reviewer, f.reopen, "terminal");
        await reviewSession({
          db, runId: o.ctx.runId, setId: o.ctx.setId, reviewer: f.reviewer, tax, scoring: o.settings.scoring, cfg: o.settings.cfg,
          required: f.required, adjudicate: f.adjudicate, flag: f.flag, task: f.task, input: process.stdin, output: process.stdout,
        });
      } finally {
        db.close();
      }
    });
}

export function signoffCommand(): Command {
  return common(new Command("signoff"))
    .description("Sign off a run's expert review; refused while required reviews are pending. Locks the run against further review changes")
    .argument("<runId>", "the run")
    .requiredOption("--reviewer <name>", "who signs off", reviewerArg)
    .option("--comment <text>", "a note kept with the sign-off")
    .option("--json", "print JSON")
    .addHelpText("after", "\nAfter sign-off, `medeval review` and `review import` refuse changes unless given --reopen \"reason\" (recorded).\n\nExample:\n  $ medeval signoff r20261123-120000-ab12 --reviewer 主任")
    .action((runId: string, f: Common & { reviewer: string; comment?: string; json?: boolean }) => {
      const { db, o } = open(f, runId, true);
      try {
        const r = signOff(o, f.reviewer, f.comment, "cli");
        if (!r.ok) {
          const list = r.pending.map((q) => `  ${q.caseId} (repeat ${q.repeat}, ${q.task}): ${statusOf(o, q.key)} — ${[...new Set(q.reasons.map((x) => x.kind))].join(", ")}`);
          throw new UserError(`run ${o.ctx.runId} cannot be signed off: ${r.pending.length} required review(s) pending\n${list.join("\n")}`, 1);
        }
        const { review } = overviewFinalScores(reviewOverview(db, o.ctx.runId, o.ctx.setId, { scoring: o.settings.scoring, cfg: o.settings.cfg, required: f.required }));
        if (f.json) printJson({ runId: o.ctx.runId, signedOff: review.signedOff, review });
        else console.log(`run ${o.ctx.runId} signed off by ${f.reviewer}: ${review.reviewed} item(s) reviewed, ${review.overridden} overridden; the run is now locked`);
      } finally {
        db.close();
      }
    });
}
