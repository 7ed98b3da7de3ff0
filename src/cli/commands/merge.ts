import { Command } from "commander";
import chalk from "chalk";
import { mergeShards } from "../../store/merge.js";
import { loadTaxonomy } from "../../taxonomy/load.js";
import { loadScoringConfig } from "../../scoring/config.js";
import { scoreRun } from "../../scoring/stage.js";
import { printJson, table } from "../output.js";

export function mergeCommand(): Command {
  return new Command("merge")
    .description("Merge the shard databases of one evaluation (run with --shard I/N) into a new database")
    .argument("<out>", "the merged database to create")
    .argument("<shards...>", "the shard databases, one run each")
    .option("--json", "print the result as JSON")
    .addHelpText("after", `
The shards must share taxonomy, datasets, scoring config, candidate, judge, filters and repeats, and must not
overlap; the merged run is scored again and reports like an unsharded run.

Example:
  $ medeval run --shard 1/3 --db shard1.sqlite ...   # on three machines
  $ medeval merge merged.sqlite shard1.sqlite shard2.sqlite shard3.sqlite
  $ medeval report --db merged.sqlite`)
    .action((out: string, shards: string[], f: { json?: boolean }) => {
      const tax = loadTaxonomy();
      const scoring = loadScoringConfig();
      const r = mergeShards(out, shards, (store, runId, setId, repeats) => scoreRun(store, runId, setId, tax, scoring, repeats));
      if (f.json) {
        printJson(r);
        return;
      }
      console.log(table(["shard database", "run", "shard", "cases"], r.shards.map((s) => [s.file, s.runId, s.shard, String(s.cases)]), [3]));
      console.log(chalk.green(`merged ${r.cases} cases, ${r.responses} responses, ${r.judgments} judgments into ${out} as run ${r.runId}`));
      const counts = new Set(r.shards.map((s) => s.shard.split("/")[1]));
      const n = Number([...counts][0]);
      if (Number.isFinite(n) && r.shards.length < n) console.log(chalk.yellow(`note: ${r.shards.length} of ${n} shards merged`));
    });
}
