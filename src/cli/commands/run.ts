import { Command } from "commander";
import chalk from "chalk";
import { createAdapter } from "../../adapters/index.js";
import { loadConfigFile, resolveAdapter } from "../../config/resolve.js";
import { loadScoringConfig } from "../../scoring/config.js";
import { evaluate, type EvaluateResult } from "../../runner/evaluate.js";
import { renderTerminalSummary } from "../../report/terminal.js";
import { projectPath } from "../../util/paths.js";
import { floatArg, intArg, listArg } from "../parse.js";
import { collectJudges, resolveJudgeConfigs, warnSameFamily } from "../../judge/juryConfig.js";
import { printJson, table } from "../output.js";
import { loadTaxonomy } from "../../taxonomy/load.js";
import { loadDatasets } from "../../dataset/load.js";
import { planCases, parseShard, type PlanFilters } from "../../runner/plan.js";
import { planRun } from "../../runner/dryRun.js";
import { loadJudgeTemplates } from "../../judge/prompt.js";
import type { AdapterConfig, Price } from "../../config/schema.js";
import { UserError, formatIssue } from "../../util/errors.js";

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
  judge?: string[];
  judgeBaseUrl?: string;
  judgeApiKeyEnv?: string;
  concurrency?: number;
  db?: string;
  out?: string;
  resume?: string;
  json?: boolean;
  quiet?: boolean;
  rpm?: number;
  tpm?: number;
  judgeConcurrency?: number;
  judgeRpm?: number;
  judgeTpm?: number;
  maxAttempts?: number;
  timeout?: number;
  deadline?: number;
  cache?: boolean;
  repeats?: number;
  retryErrors?: boolean;
  dryRun?: boolean;
  shard?: { index: number; count: number };
  allowIdentifiers?: boolean;
  patient?: string;
  patientBaseUrl?: string;
  patientApiKeyEnv?: string;
  maxTurns?: number;
  sample?: number;
  seed?: number;
}

/**
 * Ctrl-C (or SIGTERM, as sent by CI cancellation, `kill` and container stops) once: finish in-flight calls and stop;
 * twice: leave at once. The database is consistent either way; a graceful stop repeats no call on resume.
 */
export function installInterruptHandler(): { stopRequested: () => boolean; exitCode: () => number; dispose: () => void } {
  let stop = false;
  let received: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop) process.exit(signal === "SIGTERM" ? 143 : 130);
    stop = true;
    received = signal;
    const again = signal === "SIGTERM" ? "a second SIGTERM" : "Ctrl-C again";
    process.stderr.write(chalk.yellow(`\nstopping (${signal}): finishing calls in flight (${again} to quit now; resume later with --resume)\n`));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    stopRequested: () => stop,
    /** For a run that stopped early: 128 + the signal's number (130 Ctrl-C, 143 SIGTERM); 130 for a --deadline stop. */
    exitCode: () => (received === "SIGTERM" ? 143 : 130),
    dispose: () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}

export function printRunResult(r: EvaluateResult, json: boolean | undefined): void {
  if (json) {
    printJson({ runId: r.runId, db: r.dbPath, report: r.reportPath, execution: r.exec, summary: r.summary });
    return;
  }
  console.log("");
  console.log(renderTerminalSummary(r.summary, r.tax));
  console.log("");
  const e = r.endpoints;
  const money = (x: number | null) => (x === null ? "—" : `${x.toFixed(4)} ${r.summary.cost.currency ?? ""}`.trim());
  if (r.summary.cost.candidate !== null || r.summary.cost.judge !== null) console.log(`cost: candidate ${money(r.summary.cost.candidate)}, judge ${money(r.summary.cost.judge)}`);
  if (r.summary.worstOfK) console.log(`worst-of-${r.summary.repeats}: overall ${((r.summary.worstOfK.overall.mean ?? NaN) * 100).toFixed(1)}`);
  console.log(chalk.dim(`calls: candidate ${e.candidate.calls} (${e.candidate.retries} retries, ${e.candidate.rateLimited}× 429), judge ${e.judge.calls} (${e.judge.retries} retries); answers from cache ${r.exec.cacheHits}, already stored ${r.exec.skipped}`));
  console.log(`database: ${r.dbPath}`);
  console.log(`report:   ${r.reportPath}`);
  if (r.exec.stopped) console.log(chalk.yellow(`interrupted: resume with  medeval run --resume ${r.runId} (and the same options)`));
}

function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

async function printDryRun(datasets: string[], filters: PlanFilters, repeats: number, cand: AdapterConfig, judge: AdapterConfig, prices: Record<string, Price> | undefined, json?: boolean): Promise<void> {
  const tax = loadTaxonomy();
  const loaded = await loadDatasets(datasets, tax);
  const errors = loaded.issues.filter((i) => i.severity === "error");
  if (errors.length) throw new UserError(`the datasets have ${errors.length} error(s):\n${errors.slice(0, 20).map(formatIssue).join("\n")}`);
  const cases = planCases(loaded.cases, tax, filters);
  const model = (c: AdapterConfig) => (c.kind === "openai" ? c.model : undefined);
  const plan = planRun(cases, tax, loadJudgeTemplates(), {
    repeats, answerTokens: cand.kind === "openai" ? (cand.maxTokens ?? 512) : 512, candidateModel: model(cand), judgeModel: model(judge), prices,
  });
  if (json) {
    printJson(plan);
    return;
  }
  const money = (x: number | null) => (x === null ? "no price configured" : `${x.toFixed(2)} ${plan.estimatedCost.currency ?? ""}`);
  console.log(`dry run: ${plan.cases} case(s) in ${plan.tasks} task(s) (${Object.entries(plan.byDimension).map(([d, n]) => `${d} ${n}`).join(", ")}), repeats ${repeats}`);
  console.log(table(["", "calls", "input tokens (est.)", "output tokens (est.)", "cost (est.)"], [
    ["candidate", String(plan.candidateCalls), String(plan.estimatedTokens.candidate.input), String(plan.estimatedTokens.candidate.output), money(plan.estimatedCost.candidate)],
    ["judge", String(plan.judgeCalls), String(plan.estimatedTokens.judge.input), String(plan.estimatedTokens.judge.output), money(plan.estimatedCost.judge)],
  ], [1, 2, 3]));
  console.log(chalk.dim("Estimates assume ~2 characters per token; judge calls exclude repair retries. Nothing was called."));
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
    .option("--candidate <spec>", "the product under test: openai:MODEL, exec:\"COMMAND ARGS\", replay:ANSWERS.jsonl|csv, http (config file), or mock[:reference|first-option]")
    .option("--base-url <url>", "candidate endpoint (OpenAI-compatible), e.g. http://localhost:8000/v1")
    .option("--api-key-env <name>", "environment variable holding the candidate's API key (default OPENAI_API_KEY)")
    .option("--temperature <t>", "candidate sampling temperature", floatArg(0, 2))
    .option("--max-tokens <n>", "candidate max tokens", intArg(1, 1_000_000))
    .option("--system-prompt <text>", "system prompt sent before every case")
    .option("--judge <spec>", "the judge model: openai:MODEL (or mock for plumbing checks); repeat or comma-separate for a jury", collectJudges)
    .option("--judge-base-url <url>", "judge endpoint (OpenAI-compatible)")
    .option("--judge-api-key-env <name>", "environment variable holding the judge's API key (default OPENAI_API_KEY)")
    .option("--concurrency <n>", "candidate calls in flight at once (covers the judge too when both are one endpoint and key)", intArg(1, 1024))
    .option("--db <file>", "SQLite database, created if missing (default reports/medeval.sqlite)")
    .option("--out <dir>", "where the Markdown report is written (default reports/)")
    .option("--rpm <n>", "candidate requests per minute", floatArg(0.1, 1e7))
    .option("--tpm <n>", "candidate tokens per minute", floatArg(1, 1e10))
    .option("--judge-concurrency <n>", "judge calls in flight at once (default: --concurrency)", intArg(1, 1024))
    .option("--judge-rpm <n>", "judge requests per minute", floatArg(0.1, 1e7))
    .option("--judge-tpm <n>", "judge tokens per minute", floatArg(1, 1e10))
    .option("--max-attempts <n>", "attempts per call on 429, 5xx, timeouts and resets, with backoff (default 6)", intArg(1, 20))
    .option("--timeout <seconds>", "per-request timeout (default 120)", floatArg(1, 3600))
    .option("--deadline <minutes>", "stop starting new work after this long; the run can be resumed", floatArg(0.01, 100_000))
    .option("--no-cache", "do not answer from (or add to) the response cache")
    .option("--repeats <k>", "sample each case k times; reports mean and worst-of-k", intArg(1, 100))
    .option("--retry-errors", "with --resume: call again the units whose answer was an error")
    .option("--shard <I/N>", "run only shard I of N (a deterministic split by case id); combine with `medeval merge`", parseShard)
    .option("--allow-identifiers", "send cases containing personal identifiers to endpoints off this machine anyway")
    .option("--patient <spec>", "simulated patient for history-taking cases with a patientScript: openai:MODEL (or a config \"patient\" block)")
    .option("--patient-base-url <url>", "simulated patient endpoint (OpenAI-compatible)")
    .option("--patient-api-key-env <name>", "environment variable holding the simulated patient's API key (default OPENAI_API_KEY)")
    .option("--max-turns <n>", "candidate replies per simulated dialogue when the case sets no maxTurns (default 8)", intArg(1, 30))
    .option("--sample <n>", "a stratified subset: at most n cases from every task (for CI); see --seed", intArg(1, 1_000_000))
    .option("--seed <s>", "which cases --sample picks (default 1): the same seed picks the same cases", intArg(0, 2 ** 31 - 1))
    .option("--dry-run", "print the plan (cases, calls, estimated tokens and cost) and exit without calling anything")
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
  $ medeval run --config medeval.config.json --dry-run
  $ medeval run --resume r20261123-120000-ab12 --config medeval.config.json
  $ medeval run --candidate 'exec:python3 my_product.py' --judge openai:deepseek-chat --tasks DA01
  $ medeval run --candidate replay:vendor-answers.jsonl --judge openai:deepseek-chat --profile general-llm
  $ medeval run --config medeval.config.json --tasks WF02 --patient openai:qwen-plus --patient-base-url https://patient-endpoint/v1`)
    .action(async (f: RunFlags) => {
      const file = f.config ? loadConfigFile(f.config) : {};
      const scoring = loadScoringConfig();
      const timeoutMs = f.timeout !== undefined ? Math.round(f.timeout * 1000) : undefined;
      const candidateCfg = resolveAdapter("candidate", f.candidate, file.candidate, { ...f, timeoutMs });
      const judgeCfgs = resolveJudgeConfigs(f.judge, file.judge, { baseUrl: f.judgeBaseUrl, apiKeyEnv: f.judgeApiKeyEnv, timeoutMs }, scoring);
      const judgeCfg = judgeCfgs[0]!;
      const datasets = f.datasets ?? file.datasets ?? [projectPath("datasets", "cases")];
      const filters = { profile: f.profile ?? file.profile ?? "general-llm", tasks: f.tasks, dimensions: f.dimension, specialty: f.specialty, ...(f.shard ? { shard: f.shard } : {}),
        ...(f.sample ? { sample: { perTask: f.sample, seed: f.seed ?? 1 } } : {}) };
      const repeats = f.repeats ?? file.repeats ?? 1;
      if (f.dryRun) {
        await printDryRun(datasets, filters, repeats, candidateCfg, judgeCfg, file.prices, f.json);
        return;
      }
      const candidate = createAdapter(candidateCfg);
      const judges = judgeCfgs.map(createAdapter);
      const judge = judges[0]!;
      const patientSpec = f.patient ?? (file.patient ? undefined : null);
      const patient = patientSpec === null ? undefined : createAdapter(resolveAdapter("patient", patientSpec, file.patient, { baseUrl: f.patientBaseUrl, apiKeyEnv: f.patientApiKeyEnv, timeoutMs }));
      warnSameFamily(candidate, judges);
      const interrupt = installInterruptHandler();
      try {
        const r = await evaluate({
          datasets, filters, candidate, judge, judges, repeats,
          dbPath: f.db ?? file.db ?? DEFAULT_DB,
          reportDir: f.out ?? DEFAULT_REPORT_DIR,
          concurrency: f.concurrency ?? file.concurrency ?? 8,
          candidateLimits: { ...file.candidateLimits, ...defined({ rpm: f.rpm, tpm: f.tpm, maxAttempts: f.maxAttempts }) },
          judgeLimits: { ...file.judgeLimits, ...defined({ concurrency: f.judgeConcurrency, rpm: f.judgeRpm, tpm: f.judgeTpm, maxAttempts: f.maxAttempts }) },
          cache: f.cache,
          retryErrors: f.retryErrors,
          deadlineMs: f.deadline !== undefined ? f.deadline * 60_000 : undefined,
          prices: file.prices,
          allowIdentifiers: f.allowIdentifiers,
          resumeRunId: f.resume,
          patient, maxTurns: f.maxTurns ?? file.maxTurns,
          quiet: f.quiet || f.json,
          stopRequested: interrupt.stopRequested,
          onRunId: (id) => { if (!f.quiet && !f.json) process.stderr.write(chalk.dim(`run ${id}\n`)); },
        });
        printRunResult(r, f.json);
        if (r.exec.stopped) process.exitCode = interrupt.exitCode();
      } finally {
        interrupt.dispose();
      }
    });
}
