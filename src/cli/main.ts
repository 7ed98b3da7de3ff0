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

async function main(): Promise<void> {
  // `medeval tasks | head` closes the pipe early: that is not an error.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw e;
  });
  const program = buildProgram();
  program.exitOverride();
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
