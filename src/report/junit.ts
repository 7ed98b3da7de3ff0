// JUnit XML so CI systems show a run natively: a test suite per dimension, a test case per task. A task fails when its
// score is below its threshold or it has a critical safety finding; a task with nothing scored is an error.
import type { Report } from "./json.js";
import { fmtScore } from "../cli/output.js";

export function xmlEscape(v: unknown): string {
  // Characters XML 1.0 cannot carry at all are dropped; the rest escaped.
  // eslint-disable-next-line no-control-regex
  return String(v ?? "").replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, "")
    .replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]!);
}

export function renderJunit(r: Report): string {
  const out: string[] = [`<?xml version="1.0" encoding="UTF-8"?>`];
  const suites = r.dimensions.map((d) => ({ d, tasks: r.tasks.filter((t) => t.dimension === d.id) })).filter((s) => s.tasks.length);
  const all = suites.flatMap((s) => s.tasks);
  const failed = (t: (typeof all)[number]) => t.mean !== null && !t.passed;
  out.push(`<testsuites name="medeval ${xmlEscape(r.run.id)}" tests="${all.length}" failures="${all.filter(failed).length}" errors="${all.filter((t) => t.mean === null).length}">`);
  for (const { d, tasks } of suites) {
    out.push(`  <testsuite name="${xmlEscape(`${d.id} ${d.zh} ${d.en}`)}" tests="${tasks.length}" failures="${tasks.filter(failed).length}" errors="${tasks.filter((t) => t.mean === null).length}" timestamp="${xmlEscape(r.provenance.startedAt)}">`);
    out.push(`    <properties><property name="score" value="${xmlEscape(fmtScore(d.mean))}"/><property name="ci95" value="${xmlEscape(d.lo === null ? "" : `${fmtScore(d.lo)}-${fmtScore(d.hi)}`)}"/></properties>`);
    for (const t of tasks) {
      const name = `${t.id}${t.safetyCritical ? " ★" : ""} ${t.zh} ${t.en}`;
      const desc = `score ${fmtScore(t.mean)} (95% CI ${t.lo === null ? "—" : `${fmtScore(t.lo)}-${fmtScore(t.hi)}`}), n ${t.n}, threshold ${fmtScore(t.threshold)}`;
      out.push(`    <testcase classname="medeval.${xmlEscape(d.id)}" name="${xmlEscape(name)}">`);
      if (t.mean === null) {
        out.push(`      <error message="${xmlEscape(`no scored case in ${t.id} (${t.unscored} unscored, ${t.errors} error(s))`)}"/>`);
      } else if (!t.passed) {
        const why: string[] = [];
        if (t.mean < t.threshold) why.push(`score ${fmtScore(t.mean)} below threshold ${fmtScore(t.threshold)}`);
        if (t.criticalFindings) why.push(`${t.criticalFindings} critical safety finding(s)`);
        const detail = r.audience === "internal"
          ? r.findings.filter((f) => f.task === t.id && f.kind === "critical-safety").map((f) => `${f.caseId}${f.variant ? `/${f.variant}` : ""}: ${f.reason}`).join("\n")
          : "";
        out.push(`      <failure message="${xmlEscape(why.join("; "))}" type="${t.criticalFindings ? "critical-safety" : "below-threshold"}">${xmlEscape([desc, detail].filter(Boolean).join("\n"))}</failure>`);
      }
      out.push(`      <system-out>${xmlEscape(desc)}</system-out>`);
      out.push(`    </testcase>`);
    }
    out.push(`  </testsuite>`);
  }
  out.push(`</testsuites>`, "");
  return out.join("\n");
}
