import { Command } from "commander";
import chalk from "chalk";
import { loadTaxonomy, resolveProfile } from "../../taxonomy/load.js";
import { UserError } from "../../util/errors.js";
import { printJson, table } from "../output.js";

export function tasksCommand(): Command {
  return new Command("tasks")
    .description("List the 72 tasks of the taxonomy, optionally for one application profile or dimension")
    .option("-p, --profile <id>", "only the tasks this application profile selects (CE is always included)")
    .option("-d, --dimension <id>", "only one dimension: CE, EK, GA, QC, WF or DA")
    .option("--json", "print JSON instead of a table")
    .addHelpText("after", "\nExamples:\n  $ medeval tasks --profile thoracic-surgery\n  $ medeval tasks --dimension DA --json")
    .action((opts: { profile?: string; dimension?: string; json?: boolean }) => {
      const tax = loadTaxonomy();
      let tasks = tax.tasks;
      if (opts.profile) {
        const sel = new Set(resolveProfile(tax, opts.profile).taskIds);
        tasks = tasks.filter((t) => sel.has(t.id));
      }
      if (opts.dimension) {
        const d = opts.dimension.toUpperCase();
        if (!tax.dimension(d)) throw new UserError(`unknown dimension "${opts.dimension}" (expected one of ${tax.dimensions.map((x) => x.id).join(", ")})`);
        tasks = tasks.filter((t) => t.dimension === d);
      }
      if (opts.json) {
        printJson({ taxonomyVersion: tax.version, taxonomyHash: tax.hash, tasks });
        return;
      }
      const rows = tasks.map((t) => [t.id + (t.safetyCritical ? " ★" : ""), t.zh, t.en, t.format]);
      console.log(table(["task", "中文", "English", "format"], rows));
      console.log(chalk.dim(`\n${tasks.length} task(s); ★ = safety-critical (failures always go to expert review). Taxonomy ${tax.version}`));
    });
}
