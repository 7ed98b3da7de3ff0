#!/usr/bin/env node
import { Command, CommanderError } from "commander";
import chalk from "chalk";
import { writeFileSync } from "node:fs";
import { UserError } from "../util/errors.js";
import { TOOL_VERSION } from "../util/version.js";
import { tasksCommand } from "./commands/tasks.js";
import { datasetsCommand } from "./commands/datasets.js";
import { runCommand } from "./commands/run.js";
import { cacheCommand } from "./commands/cache.js";
import { mergeCommand } from "./commands/merge.js";
import { demoCommand } from "./commands/demo.js";
import { reportCommand, runsCommand } from "./commands/report.js";
import { compareCommand } from "./commands/compare.js";
import { gateCommand } from "./commands/gate.js";
import { rejudgeCommand } from "./commands/rejudge.js";
import { calibrateCommand } from "./commands/calibrate.js";
import { reviewCommand, signoffCommand } from "./commands/review.js";

export function buildProgram(): Command {
  const program = new Command("medeval")
    .description("Evaluate medical AI products on the 6-dimension, 72-task taxonomy, with a reasoning-aware judge and expert re-review")
    .version(TOOL_VERSION)
    .showHelpAfterError()
    .addHelpText("after", "\nExit codes: 0 success, 1 a check failed (invalid dataset, failed gate), 2 bad input or tool error.\n\nStart with:\n  $ medeval demo");
  program.addCommand(tasksCommand());
  program.addCommand(datasetsCommand());
  program.addCommand(runCommand());
  program.addCommand(cacheCommand());
  program.addCommand(mergeCommand());
  program.addCommand(demoCommand());
  program.addCommand(reportCommand());
  program.addCommand(runsCommand());
  program.addCommand(compareCommand());
  program.addCommand(gateCommand());
  program.addCommand(rejudgeCommand());
  program.addCommand(reviewCommand());
  program.addCommand(signoffCommand());
  program.addCommand(calibrateCommand());
  return program;
}

/** SQLite failures the user can act on (full disk, read-only or locked file), said plainly; null for anything else. */
function databaseFailure(err: unknown): string | null {
  const code = (err as { code?: string } | null)?.code;
  if (!(err instanceof Error) || err.name !== "SqliteError" || !code) return null;
  const what: Record<string, string> = {
    SQLITE_FULL: "the disk (or the database's size limit) is full",
    SQLITE_READONLY: "the database file is read-only",
    SQLITE_CANTOPEN: "the database file cannot be opened",
    SQLITE_BUSY: "the database is busy: another process held a write lock for too long",
    SQLITE_IOERR: "the disk reported an I/O error",
    SQLITE_CORRUPT: "the database file is damaged",
  };
  const base = Object.entries(what).find(([k]) => code.startsWith(k));
  if (!base) return null;
  return `database: ${base[1]} (${err.message}). Everything written before this point is intact; fix the cause and run again with --resume RUN_ID to continue (\`medeval runs\` lists runs).`;
}

async function main(): Promise<void> {
  // `medeval tasks | head` closes the pipe early: that is not an error.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw e;
  });
  const program = buildProgram();
  // Every command, at every depth: usage errors become CommanderErrors, so they exit 2 like all bad input.
  const override = (c: Command): void => {
    c.exitOverride();
    for (const sub of c.commands) override(sub);
  };
  override(program);
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version exit 0; usage errors exit 2
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    if (err instanceof UserError) {
      process.stderr.write(chalk.red(`error: ${err.message}\n`));
      process.exitCode = err.exitCode;
      return;
    }
    const db = databaseFailure(err);
    if (db) {
      process.stderr.write(chalk.red(`error: ${db}\n`));
      process.exitCode = 2;
      return;
    }
    process.stderr.write(chalk.red(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`));
    process.exitCode = 2;
  }
}

// The benchmark measures this process's own CPU and memory: it asks for them through this variable.
if (process.env.MEDEVAL_RUSAGE_FILE) {
  const file = process.env.MEDEVAL_RUSAGE_FILE;
  process.on("exit", () => {
    const u = process.resourceUsage();
    writeFileSync(file, JSON.stringify({ userMs: u.userCPUTime / 1000, systemMs: u.systemCPUTime / 1000, maxRssKb: u.maxRSS }));
  });
}

await main();
