import { Command } from "commander";
import chalk from "chalk";
import { createAdapter } from "../../adapters/index.js";
import { loadConfigFile, resolveAdapter } from "../../config/resolve.js";
import { loadScoringConfig } from "../../scoring/config.js";
import { evaluate, type EvaluateResult } from "../../runner/evaluate.js";
import { renderTerminalSummary } from "../../report/terminal.js";
import { projectPath } from "../../util/paths.js";
import { floatArg, intArg, listArg } from "../parse.js";
import { printJson } from "../output.js";

export const DEFAULT_DB = projectPath("reports", "medeval.sqlite");
export const DEFAULT_REPORT_DIR = projectPath("reports");

interface RunFlags {
  config?: string;
  profile?: string;
  tasks?: string[];
  dimension?: string[];
  specialty?: string;
  datasets?: string[];
  candidate?: string;
  baseUrl?: string;
  apiKeyEnv?: string;
  temperature?: number;
  maxTokens?: number;
  systemPrompt?: string;
  judge?: string;
  judgeBaseUrl?: string;
  judgeApiKeyEnv?: string;
  concurrency?: number;
  db?: string;
  out?: string;
  resume?: string;
  json?: boolean;
  quiet?: boolean;
}

/** Ctrl-C once: finish in-flight calls and stop; twice: leave at once (the database is consistent either way). */
export function installInterruptHandler(): { stopRequested: () => boolean; dispose: () => void } {
  let stop = false;
  const onSigint = () => {
    if (stop) process.exit(130);
    stop = true;
    process.stderr.write(chalk.yellow("\nstopping: finishing calls in flight (Ctrl-C again to quit now; resume later with --resume)\n"));
  };
  process.on("SIGINT", onSigint);
  return { stopRequested: () => stop, dispose: () => process.off("SIGINT", onSigint) };
}

export function printRunResult(r: EvaluateResult, json: boolean | undefined): void {
  if (json) {
    printJson({ runId: r.runId, db: r.dbPath, report: r.reportPath, execution: r.exec, summary: r.summary });
    return;
  }
  console.log("");
  console.log(renderTerminalSummary(r.summary, r.tax));
  console.log("");
  console.log(`database: ${r.dbPath}`);
  console.log(`report:   ${r.reportPath}`);
  if (r.exec.stopped) console.log(chalk.yellow(`interrupted: resume with  medeval run --resume ${r.runId} (and the same options)`));
}

export function runCommand(): Command {
  return new Command("run")
    .description("Run a candidate over the planned cases, judge every answer and its reasoning, store everything in SQLite, write a report")
    .option("-c, --config <file>", "medeval.config.json with candidate, judge and run settings")
    .option("-p, --profile <id>", "application profile choosing the tasks (see `medeval tasks --profile`)")
    .option("-t, --tasks <ids>", "only these tasks, comma-separated (e.g. DA01,DA07)", listArg)
    .option("-d, --dimension <ids>", "only these dimensions, comma-separated (e.g. CE,DA)", listArg)
    .option("--specialty <name>", "only cases of this specialty (e.g. 胸外科)")
    .option("--datasets <paths...>", "case files or folders (default: the built-in datasets)")
    .option("--candidate <spec>", "the product under test: openai:MODEL, or mock[:reference|first-option]")
    .option("--base-url <url>", "candidate endpoint (OpenAI-compatible), e.g. http://localhost:8000/v1")
    .option("--api-key-env <name>", "environment variable holding the candidate's API key (default OPENAI_API_KEY)")
    .option("--temperature <t>", "candidate sampling temperature", floatArg(0, 2))
    .option("--max-tokens <n>", "candidate max tokens", intArg(1, 1_000_000))
    .option("--system-prompt <text>", "system prompt sent before every case")
    .option("--judge <spec>", "the judge model: openai:MODEL (or mock for plumbing checks)")
    .option("--judge-base-url <url>", "judge endpoint (OpenAI-compatible)")
    .option("--judge-api-key-env <name>", "environment variable holding the judge's API key (default OPENAI_API_KEY)")
    .option("--concurrency <n>", "calls in flight at once", intArg(1, 1024))
    .option("--db <file>", "SQLite database, created if missing (default reports/medeval.sqlite)")
    .option("--out <dir>", "where the Markdown report is written (default reports/)")
    .option("--resume <runId>", "continue an interrupted run: finished answers and judgments are not repeated")
    .option("--json", "print the result as JSON")
    .option("-q, --quiet", "no progress output")
    .addHelpText("after", `
API keys are read from environment variables only; they are never stored.

Examples:
  $ export DASHSCOPE_API_KEY=...
  $ medeval run --profile thoracic-surgery \\
      --candidate openai:qwen-max --base-url https://your-endpoint/v1 --api-key-env DASHSCOPE_API_KEY \\
      --judge openai:deepseek-chat --judge-base-url https://judge-endpoint/v1 --judge-api-key-env JUDGE_KEY
  $ medeval run --config medeval.config.json --tasks DA01,DA07 --concurrency 16
  $ medeval run --resume r20261123-120000-ab12 --config medeval.config.json`)
    .action(async (f: RunFlags) => {
      const file = f.config ? loadConfigFile(f.config) : {};
      const scoring = loadScoringConfig();
      const candidate = createAdapter(resolveAdapter("candidate", f.candidate, file.candidate, f));
      const judge = createAdapter(resolveAdapter("judge", f.judge, file.judge, { baseUrl: f.judgeBaseUrl, apiKeyEnv: f.judgeApiKeyEnv },
        { temperature: scoring.judge.temperature, seed: scoring.judge.seed }));
      const interrupt = installInterruptHandler();
      try {
        const r = await evaluate({
          datasets: f.datasets ?? file.datasets ?? [projectPath("datasets", "cases")],
          filters: { profile: f.profile ?? file.profile ?? "general-llm", tasks: f.tasks, dimensions: f.dimension, specialty: f.specialty },
          candidate, judge,
          dbPath: f.db ?? file.db ?? DEFAULT_DB,
          reportDir: f.out ?? DEFAULT_REPORT_DIR,
          concurrency: f.concurrency ?? file.concurrency ?? 8,
          resumeRunId: f.resume,
          quiet: f.quiet || f.json,
          stopRequested: interrupt.stopRequested,
        });
        printRunResult(r, f.json);
        if (r.exec.stopped) process.exitCode = 130;
      } finally {
        interrupt.dispose();
      }
    });
}
