// npm run judge:validity — runs both answers of every reasoning pair (datasets/pairs/reasoning-pairs.jsonl) through a
// configured real judge and prints the share of pairs where the sound answer scored higher than the flawed one.
// The judge: --judge openai:MODEL [--judge-base-url URL] [--judge-api-key-env NAME], or the environment variables
// MEDEVAL_JUDGE_MODEL, MEDEVAL_JUDGE_BASE_URL, MEDEVAL_JUDGE_API_KEY_ENV. With none, it says so and exits 0.
import { Command } from "commander";
import chalk from "chalk";
import { createAdapter } from "../src/adapters/index.js";
import { resolveAdapter } from "../src/config/resolve.js";
import { loadScoringConfig } from "../src/scoring/config.js";
import { loadJudgeTemplates, JUDGE_PROMPT_VERSION } from "../src/judge/prompt.js";
import { loadTaxonomy } from "../src/taxonomy/load.js";
import { loadReasoningPairs, renderValidity, runValidity } from "../src/judge/validity.js";
import { projectPath } from "../src/util/paths.js";
import { UserError } from "../src/util/errors.js";

interface Flags {
  judge?: string;
  judgeBaseUrl?: string;
  judgeApiKeyEnv?: string;
  pairs: string;
  promptVersion: string;
  concurrency: string;
  json?: boolean;
}

async function main(): Promise<void> {
  const program = new Command("judge-validity")
    .description("Share of reasoning pairs where the judge scores the soundly reasoned answer above the flawed one")
    .option("--judge <spec>", "judge model, openai:MODEL (default: openai:$MEDEVAL_JUDGE_MODEL)")
    .option("--judge-base-url <url>", "judge endpoint (default: $MEDEVAL_JUDGE_BASE_URL)")
    .option("--judge-api-key-env <name>", "variable holding the judge's API key (default: $MEDEVAL_JUDGE_API_KEY_ENV, else OPENAI_API_KEY)")
    .option("--pairs <file>", "pairs file", projectPath("datasets", "pairs", "reasoning-pairs.jsonl"))
    .option("--prompt-version <v>", "judge prompt version", JUDGE_PROMPT_VERSION)
    .option("--concurrency <n>", "pairs judged at once", "4")
    .option("--json", "print JSON")
    .addHelpText("after", "\nExample:\n  $ MEDEVAL_JUDGE_MODEL=deepseek-chat MEDEVAL_JUDGE_BASE_URL=https://judge/v1 MEDEVAL_JUDGE_API_KEY_ENV=JUDGE_KEY npm run judge:validity");
  program.parse(process.argv);
  const f = program.opts<Flags>();

  const envModel = process.env.MEDEVAL_JUDGE_MODEL?.trim();
  const spec = f.judge ?? (envModel ? `openai:${envModel}` : undefined);
  if (!spec) {
    console.log("judge:validity skipped: no judge configured. Set MEDEVAL_JUDGE_MODEL (and MEDEVAL_JUDGE_BASE_URL, MEDEVAL_JUDGE_API_KEY_ENV) or pass --judge openai:MODEL to measure the judge on the reasoning pairs.");
    return;
  }
  const concurrency = Number(f.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new UserError(`--concurrency: expected a whole number from 1 to 64, got "${f.concurrency}"`);
  const scoring = loadScoringConfig();
  const judge = createAdapter(resolveAdapter("judge", spec, undefined, {
    baseUrl: f.judgeBaseUrl ?? (process.env.MEDEVAL_JUDGE_BASE_URL || undefined),
    apiKeyEnv: f.judgeApiKeyEnv ?? (process.env.MEDEVAL_JUDGE_API_KEY_ENV || undefined),
  }, { temperature: scoring.judge.temperature, seed: scoring.judge.seed }));
  const tax = loadTaxonomy();
  const pairs = loadReasoningPairs(f.pairs, tax);
  if (!f.json) process.stderr.write(chalk.dim(`judging ${pairs.length} pairs (${pairs.length * 2} answers) with ${judge.name}, mode ${scoring.judge.mode}…\n`));
  const r = await runValidity(judge, pairs, { templates: loadJudgeTemplates(f.promptVersion), tax, scoring }, concurrency);
  if (f.json) process.stdout.write(JSON.stringify(r, null, 2) + "\n");
  else console.log(renderValidity(r));
}

main().catch((err: unknown) => {
  if (err instanceof UserError) {
    process.stderr.write(chalk.red(`error: ${err.message}\n`));
    process.exitCode = err.exitCode;
    return;
  }
  process.stderr.write(chalk.red(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`));
  process.exitCode = 2;
});
