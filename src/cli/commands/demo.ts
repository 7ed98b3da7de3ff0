import { Command } from "commander";
import chalk from "chalk";
import { startFakeServer } from "../../demo/fakeServer.js";
import { simulatedCandidate, simulatedJudge } from "../../demo/simulated.js";
import { OpenAIAdapter } from "../../adapters/openai.js";
import { loadTaxonomy } from "../../taxonomy/load.js";
import { loadDatasets } from "../../dataset/load.js";
import { loadScoringConfig } from "../../scoring/config.js";
import { evaluate } from "../../runner/evaluate.js";
import { projectPath } from "../../util/paths.js";
import { intArg } from "../parse.js";
import { printRunResult, installInterruptHandler } from "./run.js";

export function demoCommand(): Command {
  return new Command("demo")
    .description("Run the built-in datasets end to end against SIMULATED models on loopback: no keys, no network")
    .option("-p, --profile <id>", "application profile", "general-llm")
    .option("--db <file>", "database file", projectPath("reports", "demo.sqlite"))
    .option("--concurrency <n>", "calls in flight", intArg(1, 256), 16)
    .option("--datasets <paths...>", "case files or folders (default: the built-in datasets)")
    .option("--json", "print the result as JSON")
    .option("-q, --quiet", "no progress output")
    .addHelpText("after", "\nThe candidate and the judge are simulated by a local OpenAI-compatible server inside this process;\nthe real openai adapter, judge path, SQLite store and report are used.\n\nExamples:\n  $ medeval demo\n  $ medeval demo --profile thoracic-surgery")
    .action(async (f: { profile: string; db: string; concurrency: number; datasets?: string[]; json?: boolean; quiet?: boolean }) => {
      const datasets = f.datasets ?? [projectPath("datasets", "cases")];
      const loaded = await loadDatasets(datasets, loadTaxonomy());
      const cases = loaded.cases.map((c) => c.case);
      const candidateServer = await startFakeServer(simulatedCandidate(cases));
      const judgeServer = await startFakeServer(simulatedJudge());
      if (!f.json) {
        console.log(chalk.cyan.bold("medeval demo — the models are SIMULATED (a loopback fake server); scores say nothing about any real product."));
        console.log(chalk.dim(`candidate ${candidateServer.url}   judge ${judgeServer.url}`));
      }
      const scoring = loadScoringConfig();
      const interrupt = installInterruptHandler();
      try {
        const r = await evaluate({
          datasets,
          filters: { profile: f.profile },
          candidate: new OpenAIAdapter({ kind: "openai", model: "simulated-candidate", baseURL: candidateServer.url, apiKeyEnv: "MEDEVAL_DEMO_KEY", timeoutMs: 30_000, maxRetries: 0 }),
          judge: new OpenAIAdapter({ kind: "openai", model: "simulated-judge", baseURL: judgeServer.url, apiKeyEnv: "MEDEVAL_DEMO_KEY", timeoutMs: 30_000, maxRetries: 0, temperature: scoring.judge.temperature, seed: scoring.judge.seed }),
          dbPath: f.db,
          reportDir: projectPath("reports"),
          concurrency: f.concurrency,
          quiet: f.quiet || f.json,
          stopRequested: interrupt.stopRequested,
        });
        printRunResult(r, f.json);
        if (!f.json) console.log(chalk.cyan("(simulated models — see README for running a real candidate and judge)"));
      } finally {
        interrupt.dispose();
        await Promise.all([candidateServer.close(), judgeServer.close()]);
      }
    });
}
