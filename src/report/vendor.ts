// The vendor view. Built by copying an allow-list of fields (never by deleting the sensitive ones), so a field added
// to the internal report later stays out of vendor reports until someone decides it belongs there.
import type { InternalReport, VendorReport } from "./json.js";
import { vendorReportSchema } from "./json.js";

export function toVendor(r: InternalReport): VendorReport {
  const v: VendorReport = {
    schema: r.schema,
    schemaVersion: r.schemaVersion,
    audience: "vendor",
    generatedAt: r.generatedAt,
    run: { id: r.run.id, status: r.run.status, profile: r.run.profile, judgmentSet: r.run.judgmentSet },
    provenance: {
      toolVersion: r.provenance.toolVersion,
      taxonomyVersion: r.provenance.taxonomyVersion,
      taxonomyHash: r.provenance.taxonomyHash,
      scoringHash: r.provenance.scoringHash,
      passMark: r.provenance.passMark,
      candidate: r.provenance.candidate,
      judges: r.provenance.judges,
      judgePromptVersion: r.provenance.judgePromptVersion,
      judgePromptHash: r.provenance.judgePromptHash,
      judgePromptHashes: [...r.provenance.judgePromptHashes],
      datasets: r.provenance.datasets.map((d) => ({ path: d.path, sha256: d.sha256, cases: d.cases })),
      startedAt: r.provenance.startedAt,
      finishedAt: r.provenance.finishedAt,
      tokens: r.provenance.tokens,
      cost: r.provenance.cost,
    },
    totals: { ...r.totals },
    overall: { mean: r.overall.mean, lo: r.overall.lo, hi: r.overall.hi, n: r.overall.n },
    dimensions: r.dimensions.map((d) => ({ id: d.id, zh: d.zh, en: d.en, weight: d.weight, mean: d.mean, lo: d.lo, hi: d.hi, n: d.n, tasks: d.tasks })),
    tasks: r.tasks.map((t) => ({
      id: t.id, dimension: t.dimension, zh: t.zh, en: t.en, safetyCritical: t.safetyCritical, mean: t.mean, lo: t.lo, hi: t.hi, n: t.n,
      unscored: t.unscored, errors: t.errors, flagged: t.flagged, reviewed: t.reviewed, criticalFindings: t.criticalFindings,
      threshold: t.threshold, passed: t.passed,
    })),
    findingCategories: r.findingCategories.map((c) => ({ kind: c.kind, severity: c.severity, task: c.task, dimension: c.dimension, count: c.count })),
    review: { ...r.review, signOff: r.review.signOff ? { ...r.review.signOff } : null },
  };
  // Strict schema: any stray field (a case, a finding's reason) makes this throw rather than ship.
  return vendorReportSchema.parse(v);
}
