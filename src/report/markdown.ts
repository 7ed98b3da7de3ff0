import type { RunSummary } from "./summary.js";
import type { Taxonomy } from "../taxonomy/load.js";
import { fmtScore } from "../cli/output.js";

/** Model text is untrusted: keep it from breaking the table or injecting markup. */
export function mdCell(text: string): string {
  return text.replace(/[\\`*_{}[\]<>|#]/g, (m) => `\\${m}`).replace(/\r?\n/g, " ");
}

/** Inside a code span nothing is interpreted, so only backticks and line breaks need removing. */
export function mdCode(text: string): string {
  return "`" + text.replace(/`/g, "'").replace(/\r?\n/g, " ").replace(/\|/g, "¦") + "`";
}

function ci(lo: number | null, hi: number | null): string {
  return lo === null || hi === null ? "—" : `${fmtScore(lo)}–${fmtScore(hi)}`;
}

export function renderMarkdown(s: RunSummary, tax: Taxonomy): string {
  const out: string[] = [];
  out.push(`# medeval report — run ${s.run.id}`, "");
  out.push(`Status **${s.run.status}** · profile \`${s.run.profile ?? "—"}\` · judgment set \`${s.judgmentSet.label}\` · started ${s.run.createdAt}${s.run.finishedAt ? ` · finished ${s.run.finishedAt}` : ""}`, "");
  out.push(`Overall score **${fmtScore(s.aggregates.overall.mean)}** (95 % CI ${ci(s.aggregates.overall.lo, s.aggregates.overall.hi)}) over ${s.aggregates.overall.n} scored case(s). Scores are 0–100.`, "");
  if (s.flagCounts["critical-safety"]) out.push(`> **${s.flagCounts["critical-safety"]} critical safety finding(s)** await expert review.`, "");

  out.push("## Dimensions", "", "| dim | 维度 | dimension | score | 95 % CI | tasks | cases |", "|---|---|---|---:|---|---:|---:|");
  for (const d of s.aggregates.dimensions) {
    const dim = tax.dimension(d.id)!;
    out.push(`| ${d.id} | ${dim.zh} | ${dim.en} | ${fmtScore(d.mean)} | ${ci(d.lo, d.hi)} | ${d.tasks} | ${d.n} |`);
  }
  out.push("", "## Tasks", "", "| task | 任务 | task | score | 95 % CI | n | unscored |", "|---|---|---|---:|---|---:|---:|");
  for (const t of s.aggregates.tasks) {
    const task = tax.task(t.id)!;
    out.push(`| ${t.id}${task.safetyCritical ? " ★" : ""} | ${task.zh} | ${task.en} | ${fmtScore(t.mean)} | ${ci(t.lo, t.hi)} | ${t.n} | ${t.unscored} |`);
  }
  out.push("", "## Flagged for expert review", "");
  if (!s.flags.length) out.push("Nothing flagged.");
  else {
    out.push(`${s.flaggedCases} case(s) flagged.`, "", "| case | kind | why |", "|---|---|---|");
    for (const f of s.flags) out.push(`| ${mdCell(f.case_id)}${f.variant ? `/${mdCell(f.variant)}` : ""} | ${f.kind} | ${mdCell(f.reason.slice(0, 300))} |`);
  }
  out.push("", "## Provenance", "");
  out.push(`- medeval ${s.run.toolVersion}; taxonomy ${s.run.taxonomyVersion} (\`${s.run.taxonomyHash.slice(0, 12)}\`); scoring config \`${s.run.scoringHash.slice(0, 12)}\``);
  out.push(`- judge prompt ${s.judgmentSet.promptVersion} (\`${s.judgmentSet.promptHash.slice(0, 12)}\`); judges: ${mdCode(JSON.stringify(s.judgmentSet.judges))}`);
  out.push(`- candidate: ${mdCode(JSON.stringify((s.run.config as { candidate?: unknown }).candidate ?? null))}`);
  for (const d of s.run.datasets) out.push(`- dataset ${mdCode(d.path)}: ${d.cases} case(s), sha256 \`${d.sha256.slice(0, 12)}\``);
  const t = s.tokens;
  out.push(`- tokens: candidate ${t.candidate.promptTokens} in / ${t.candidate.completionTokens} out (${t.candidate.calls} calls); judge ${t.judge.promptTokens} in / ${t.judge.completionTokens} out (${t.judge.calls} calls)`);
  out.push(`- cases ${s.cases}: scored ${s.scored}, unscored ${s.unscored}; candidate errors ${s.candidateErrors}; judge failures ${s.judgeFailures}`);
  out.push("");
  return out.join("\n");
}
