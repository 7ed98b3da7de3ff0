import { fmtScore } from "../cli/output.js";
import type { Report } from "./json.js";
import { scrubControl } from "../util/text.js";

/** Model text is untrusted: keep it from breaking the table or injecting markup. */
export function mdCell(text: string): string {
  return scrubControl(text).replace(/[\\`*_{}[\]<>|#]/g, (m) => `\\${m}`).replace(/\r?\n/g, " ");
}

/** Inside a code span nothing is interpreted, so only backticks and line breaks need removing. */
export function mdCode(text: string): string {
  return "`" + text.replace(/`/g, "'").replace(/\r?\n/g, " ").replace(/\|/g, "¦") + "`";
}

function ci(lo: number | null, hi: number | null): string {
  return lo === null || hi === null ? "—" : `${fmtScore(lo)}–${fmtScore(hi)}`;
}

export function renderMarkdownReport(r: Report): string {
  const out: string[] = [];
  const o = r.overall;
  out.push(`# medeval report — run ${mdCell(r.run.id)}${r.audience === "vendor" ? " (vendor report)" : ""}`, "");
  out.push(`Status **${mdCell(r.run.status)}** · profile ${mdCode(r.run.profile ?? "—")} · judgment set ${mdCode(r.run.judgmentSet)} · started ${r.provenance.startedAt}${r.provenance.finishedAt ? ` · finished ${r.provenance.finishedAt}` : ""}`, "");
  out.push(`Overall score **${fmtScore(o.mean)}** (95 % CI ${ci(o.lo, o.hi)}) over ${o.n} scored case(s). Scores are 0–100.`, "");
  const crit = r.findingCategories.filter((c) => c.severity === "critical");
  if (crit.length) {
    out.push(`> **Safety-critical findings:** ${crit.map((c) => `${c.kind} in ${c.task} ×${c.count}`).join("; ")}`, "");
  }
  out.push("## Dimensions", "", "| dim | 维度 | dimension | score | 95 % CI | tasks | cases |", "|---|---|---|---:|---|---:|---:|");
  for (const d of r.dimensions) out.push(`| ${d.id} | ${d.zh} | ${d.en} | ${fmtScore(d.mean)} | ${ci(d.lo, d.hi)} | ${d.tasks} | ${d.n} |`);
  out.push("", "## Findings", "");
  if (!r.findingCategories.length) out.push("Nothing flagged.");
  else {
    out.push("| kind | severity | task | count |", "|---|---|---|---:|");
    for (const c of r.findingCategories) out.push(`| ${c.kind} | ${c.severity} | ${c.task} | ${c.count} |`);
    if (r.audience === "internal") {
      out.push("", "| case | task | kind | review | why |", "|---|---|---|---|---|");
      for (const f of r.findings) out.push(`| ${mdCell(f.caseId)}${f.variant ? `/${mdCell(f.variant)}` : ""}${f.repeat ? ` #${f.repeat}` : ""} | ${f.task} | ${f.kind} | ${f.reviewState} | ${mdCell(f.reason.slice(0, 300))} |`);
    }
  }
  out.push("", "## Tasks", "", "| task | 任务 | task | score | 95 % CI | n | errors | flagged | reviewed | threshold | result |", "|---|---|---|---:|---|---:|---:|---:|---:|---:|---|");
  for (const t of r.tasks) {
    out.push(`| ${t.id}${t.safetyCritical ? " ★" : ""} | ${t.zh} | ${t.en} | ${fmtScore(t.mean)} | ${ci(t.lo, t.hi)} | ${t.n} | ${t.errors} | ${t.flagged} | ${t.reviewed} | ${fmtScore(t.threshold, 0)} | ${t.passed === null ? "—" : t.passed ? "pass" : "**fail**"} |`);
  }
  const rv = r.review;
  out.push("", "## Expert review", "", `${rv.flaggedCases} flagged case(s): ${rv.reviewedCases} reviewed, ${rv.unreviewedCases} awaiting review. Sign-off: ${rv.signOff ? `${mdCell(rv.signOff.by)} at ${mdCell(rv.signOff.at)}` : "not signed off"}.`);
  const p = r.provenance;
  out.push("", "## Provenance", "");
  out.push(`- medeval ${p.toolVersion}; taxonomy ${p.taxonomyVersion} (\`${p.taxonomyHash.slice(0, 12)}\`); scoring config \`${p.scoringHash.slice(0, 12)}\``);
  out.push(`- judge prompt ${p.judgePromptVersion} (\`${p.judgePromptHash.slice(0, 12)}\`); judges: ${mdCode(JSON.stringify(p.judges))}`);
  out.push(`- candidate: ${mdCode(JSON.stringify(p.candidate))}`);
  for (const d of p.datasets) out.push(`- dataset ${mdCode(d.path)}: ${d.cases} case(s), sha256 \`${d.sha256.slice(0, 12)}\``);
  out.push(`- tokens: candidate ${p.tokens.candidate.promptTokens} in / ${p.tokens.candidate.completionTokens} out (${p.tokens.candidate.calls} calls); judge ${p.tokens.judge.promptTokens} in / ${p.tokens.judge.completionTokens} out (${p.tokens.judge.calls} calls)`);
  if (p.cost) out.push(`- cost: candidate ${p.cost.candidate?.toFixed(4) ?? "—"}, judge ${p.cost.judge?.toFixed(4) ?? "—"} ${p.cost.currency ?? ""}`);
  out.push(`- cases ${r.totals.cases}: scored ${r.totals.scored}, unscored ${r.totals.unscored}; candidate errors ${r.totals.candidateErrors}; judge failures ${r.totals.judgeFailures}`);
  out.push("");
  return out.join("\n");
}
