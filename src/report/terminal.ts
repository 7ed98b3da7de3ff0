import chalk from "chalk";
import type { RunSummary } from "./summary.js";
import type { Taxonomy } from "../taxonomy/load.js";
import { fmtScore, table } from "../cli/output.js";

function interval(lo: number | null, hi: number | null): string {
  return lo === null || hi === null ? "—" : `${fmtScore(lo)}–${fmtScore(hi)}`;
}

function colour(x: number | null): string {
  const s = fmtScore(x);
  if (x === null) return s;
  return x >= 0.8 ? chalk.green(s) : x >= 0.6 ? chalk.yellow(s) : chalk.red(s);
}

export function renderTerminalSummary(s: RunSummary, tax: Taxonomy): string {
  const lines: string[] = [];
  lines.push(chalk.bold(`Run ${s.run.id}`) + chalk.dim(`  (${s.run.status}, profile ${s.run.profile ?? "—"}, judgment set ${s.judgmentSet.label})`));
  const rows = s.aggregates.dimensions.map((d) => {
    const dim = tax.dimension(d.id)!;
    return [d.id, dim.zh, dim.en, colour(d.mean), interval(d.lo, d.hi), String(d.tasks), String(d.n)];
  });
  rows.push([chalk.bold("ALL"), "总分", "Overall", colour(s.aggregates.overall.mean), interval(s.aggregates.overall.lo, s.aggregates.overall.hi), "", String(s.aggregates.overall.n)]);
  lines.push(table(["dim", "维度", "dimension", "score", "95% CI", "tasks", "cases"], rows, [3, 5, 6]));
  lines.push("");
  lines.push(`cases ${s.cases}: scored ${s.scored}, unscored ${s.unscored}; candidate errors ${s.candidateErrors}; judge failures ${s.judgeFailures}`);
  const flagText = Object.entries(s.flagCounts).map(([k, v]) => `${k} ${v}`).join(", ");
  const flagLine = `flagged for expert review: ${s.flaggedCases} case(s)${flagText ? ` (${flagText})` : ""}`;
  lines.push(s.flagCounts["critical-safety"] ? chalk.red(flagLine) : s.flaggedCases ? chalk.yellow(flagLine) : flagLine);
  const t = s.tokens;
  lines.push(chalk.dim(`tokens: candidate ${t.candidate.promptTokens}+${t.candidate.completionTokens} in ${t.candidate.calls} calls; judge ${t.judge.promptTokens}+${t.judge.completionTokens} in ${t.judge.calls} calls`));
  return lines.join("\n");
}
