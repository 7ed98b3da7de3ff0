import { Command } from "commander";
import chalk from "chalk";
import { createAdapter } from "../../adapters/index.js";
import { loadConfigFile } from "../../config/resolve.js";
import { loadScoringConfig } from "../../scoring/config.js";
import { loadJudgeTemplates, JUDGE_PROMPT_VERSION } from "../../judge/prompt.js";
import { rejudgeRun } from "../../judge/rejudge.js";
import { collectJudges, resolveJudgeConfigs, warnSameFamily } from "../../judge/juryConfig.js";
import { loadTaxonomy } from "../../taxonomy/load.js";
import { openDatabase } from "../../store/db.js";
import { RunStore } from "../../store/runStore.js";
import { buildSummary, resolveRun } from "../../report/summary.js";
import { Progress } from "../../runner/progress.js";
import { fmtScore, printJson, table } from "../output.js";
import { intArg } from "../parse.js";
import { DEFAULT_DB, installInterruptHandler } from "./run.js";

interface RejudgeFlags {
  judge?: string[];
  judgeBaseUrl?: string;
  judgeApiKeyEnv?: string;
  config?: string;
  label?: string;
  promptVersion: string;
  db: string;
  concurrency: number;
  cache: boolean;
  json?: boolean;
  quiet?: boolean;
}

export function rejudgeCommand(): Command {
  return new Command("rejudge")
    .description("Judge a run's stored answers again (another judge, a jury, or another prompt version) as a new judgment set; the candidate is not called")
    .argument("[runId]", "the run (default: the latest in the database)")
    .option("--judge <spec>", "judge model: openai:MODEL; repeat or comma-separate for a jury", collectJudges)
    .option("--judge-base-url <url>", "judge endpoint (OpenAI-compatible), for every judge given")
    .option("--judge-api-key-env <name>", "environment variable holding the judges' API key (default OPENAI_API_KEY)")
    .option("-c, --config <file>", "medeval.config.json whose judge block is the base of each --judge")
    .option("--label <label>", "name of the new judgment set (default rejudge-N); an existing label with the same judges resumes it")
    .option("--prompt-version <v>", "judge prompt version in rubrics/judge/", JUDGE_PROMPT_VERSION)
    .option("--db <file>", "database file", DEFAULT_DB)
    .option("--concurrency <n>", "answers judged at once", intArg(1, 1024), 8)
    .option("--no-cache", "call the judges afresh even where an identical judgment is already stored")
    .option("--json", "print the result as JSON")
    .option("-q, --quiet", "no progress output")
    .addHelpText("after", `
The first judgment set is left as it is; choose the set a report shows with \`medeval report --set LABEL\`.

Examples:
  $ medeval rejudge r20261123-120000-ab12 --judge openai:deepseek-chat --judge-base-url https://judge/v1 --judge-api-key-env JUDGE_KEY
  $ medeval rejudge --judge openai:glm-4-plus,openai:deepseek-chat --label jury-2
  $ medeval report r20261123-120000-ab12 --set jury-2`)
    .action(async (runId: string | undefined, f: RejudgeFlags) => {
      const file = f.config ? loadConfigFile(f.config) : {};
      const scoring = loadScoringConfig();
      const judges = resolveJudgeConfigs(f.judge, file.judge, { baseUrl: f.judgeBaseUrl, apiKeyEnv: f.judgeApiKeyEnv }, scoring).map(createAdapter);
      const templates = loadJudgeTemplates(f.promptVersion);
      const tax = loadTaxonomy();
      const db = openDatabase(f.db);
      const interrupt = installInterruptHandler();
      try {
        const store = new RunStore(db);
        const run = resolveRun(store, runId);
        const candidateModel = (JSON.parse(run.config_json) as { candidate?: { model?: unknown } }).candidate?.model;
        if (typeof candidateModel === "string") warnSameFamily(candidateModel, judges);
        const r = await rejudgeRun({
          store, runId: run.id, label: f.label, judges, templates, tax, scoring, concurrency: f.concurrency, cache: f.cache,
          progress: new Progress(process.stderr, f.quiet || f.json), stopRequested: interrupt.stopRequested,
        });
        const sets = store.listJudgmentSets(run.id).map((s) => {
          const sum = buildSummary(store, run, s, tax, scoring);
          return { id: s.id, label: s.label, promptVersion: s.prompt_version, judges: (JSON.parse(s.judges_json) as { name: string }[]).map((j) => j.name), overall: sum.aggregates.overall, scored: sum.scored, unscored: sum.unscored, flags: sum.flagCounts };
        });
        if (f.json) {
          printJson({ ...r, sets });
        } else {
          console.log(`${r.resumed ? "resumed" : "new"} judgment set "${r.label}" (id ${r.setId}) for run ${r.runId}: ${r.responses} answers, ${r.judgeCalls} judge calls, ${r.judgeFailures} failed; ${r.stage.scored} cases scored, ${r.stage.unscored} unscored, ${r.stage.flags} flags`);
          console.log("");
          console.log(table(["set", "label", "prompt", "judges", "overall", "95% CI", "scored", "unscored"], sets.map((s) => [
            String(s.id), s.label, s.promptVersion, s.judges.join(", "), fmtScore(s.overall.mean),
            s.overall.lo === null ? "—" : `${fmtScore(s.overall.lo)}–${fmtScore(s.overall.hi)}`, String(s.scored), String(s.unscored),
          ]), [4, 6, 7]));
          if (r.stopped) console.log(chalk.yellow(`interrupted: run the same command again to finish set "${r.label}"`));
        }
        if (r.stopped) process.exitCode = interrupt.exitCode();
      } finally {
        interrupt.dispose();
        db.close();
      }
    });
}
