// Applies a gate policy to a run's report (and, for regressions, its comparison with a baseline). Pure: no I/O.
import type { InternalReport } from "../report/json.js";
import type { Comparison } from "../report/compare.js";
import type { GatePolicy } from "./policy.js";
import { fmtScore } from "../cli/output.js";

export type CheckKind = "run-status" | "min-overall" | "min-dimension" | "min-task" | "critical-safety" | "regression" | "unreviewed-flags";

export interface GateCheck {
  kind: CheckKind;
  /** What was checked: "overall", a dimension or task id, a finding kind. */
  subject: string;
  passed: boolean;
  message: string;
}

export interface GateResult {
  passed: boolean;
  runId: string;
  baselineRunId: string | null;
  checks: GateCheck[];
  /** Messages of the failed checks, in check order. */
  reasons: string[];
}

const pct = (x: number | null) => fmtScore(x);

export function evaluateGate(r: InternalReport, p: GatePolicy, cmp: Comparison | null): GateResult {
  const checks: GateCheck[] = [];
  const add = (kind: CheckKind, subject: string, passed: boolean, message: string) => checks.push({ kind, subject, passed, message });

  // An interrupted or failed run is missing answers: its averages cannot release anything.
  add("run-status", "run", r.run.status === "completed", r.run.status === "completed" ? "run completed" : `run status is ${r.run.status}, not completed (resume it first)`);

  if (p.minOverall !== undefined) {
    const m = r.overall.mean;
    add("min-overall", "overall", m !== null && m >= p.minOverall,
      m === null ? `overall: no scored case (required ≥ ${pct(p.minOverall)})` : `overall ${pct(m)} ${m >= p.minOverall ? "≥" : "<"} required ${pct(p.minOverall)}`);
  }

  if (p.minDimension) {
    const explicit = Object.keys(p.minDimension).filter((k) => k !== "*");
    const present = r.dimensions.filter((d) => r.tasks.some((t) => t.dimension === d.id)).map((d) => d.id);
    const ids = [...new Set([...explicit, ...(p.minDimension["*"] !== undefined ? present : [])])];
    for (const d of r.dimensions.filter((x) => ids.includes(x.id))) {
      const min = p.minDimension[d.id] ?? p.minDimension["*"]!;
      add("min-dimension", d.id, d.mean !== null && d.mean >= min,
        d.mean === null ? `dimension ${d.id} ${d.en}: no scored case (required ≥ ${pct(min)})` : `dimension ${d.id} ${d.en} ${pct(d.mean)} ${d.mean >= min ? "≥" : "<"} required ${pct(min)}`);
    }
  }

  if (p.minTask) {
    const explicit = Object.keys(p.minTask).filter((k) => k !== "*");
    for (const id of explicit) {
      if (!r.tasks.some((t) => t.id === id)) add("min-task", id, false, `task ${id}: not in this run (the policy requires ≥ ${pct(p.minTask[id]!)})`);
    }
    const ids = new Set([...explicit, ...(p.minTask["*"] !== undefined ? r.tasks.map((t) => t.id) : [])]);
    for (const t of r.tasks.filter((x) => ids.has(x.id))) {
      const min = p.minTask[t.id] ?? p.minTask["*"]!;
      add("min-task", t.id, t.mean !== null && t.mean >= min,
        t.mean === null ? `task ${t.id} ${t.en}: no scored case (required ≥ ${pct(min)})` : `task ${t.id} ${t.en} ${pct(t.mean)} ${t.mean >= min ? "≥" : "<"} required ${pct(min)}`);
    }
  }

  if (p.zeroCriticalSafety) {
    const crit = r.findings.filter((f) => f.kind === "critical-safety");
    const where = [...new Set(crit.map((f) => `${f.caseId}${f.variant ? `/${f.variant}` : ""} (${f.task})`))];
    add("critical-safety", "critical-safety", crit.length === 0,
      crit.length ? `${crit.length} critical safety finding(s): ${where.join(", ")}` : "no critical safety finding");
  }

  if (p.unreviewedFlagsBlock) {
    const open = r.findings.filter((f) => f.reviewState === "unreviewed");
    const cases = new Set(open.map((f) => f.caseId));
    add("unreviewed-flags", "flags", open.length === 0,
      open.length ? `${open.length} flag(s) on ${cases.size} case(s) await expert review${r.review.source === "none" ? " (this database has no review records)" : ""}` : "every flag has been reviewed");
  }

  if (p.maxRegression && cmp) {
    const want = p.maxRegression;
    const dimIds = [...new Set([...Object.keys(want).filter((k) => k !== "*" && k !== "overall"), ...(want["*"] !== undefined ? cmp.dimensions.map((d) => d.id) : [])])];
    for (const id of dimIds) {
      const max = want[id] ?? want["*"]!;
      const d = cmp.dimensions.find((x) => x.id === id);
      if (!d) {
        add("regression", id, false, `dimension ${id}: no case shared with baseline ${cmp.a.runId}, so the regression cannot be judged`);
        continue;
      }
      // hi < −max ≤ 0 implies the interval excludes zero; `significant` adds that there were cases to resample.
      const bad = d.hi < -max && d.significant;
      add("regression", id, !bad, `dimension ${id} vs baseline: Δ ${signed(d.delta)} (95 % CI ${signed(d.lo)} … ${signed(d.hi)})${bad ? ` — whole interval below −${pct(max)}` : `, allowed drop ${pct(max)}`}`);
    }
    if (want.overall !== undefined && cmp.overall) {
      const o = cmp.overall;
      const bad = o.hi < -want.overall && o.significant;
      add("regression", "overall", !bad, `overall vs baseline: Δ ${signed(o.delta)} (95 % CI ${signed(o.lo)} … ${signed(o.hi)})${bad ? ` — whole interval below −${pct(want.overall)}` : `, allowed drop ${pct(want.overall)}`}`);
    }
  }

  const reasons = checks.filter((c) => !c.passed).map((c) => c.message);
  return { passed: reasons.length === 0, runId: r.run.id, baselineRunId: cmp?.a.runId ?? null, checks, reasons };
}

function signed(x: number): string {
  return `${x >= 0 ? "+" : "−"}${fmtScore(Math.abs(x))}`;
}
