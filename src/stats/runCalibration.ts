// Calibration of a stored judgment set: pairs the set's (jury-aggregated) case scores with expert labels,
// measures length bias, and stores the result in the calibrations table.
import type { RunStore, ScoreRow } from "../store/runStore.js";
import { nowIso } from "../store/db.js";
import { bootstrapInterval, pearson, spearman, type Interval } from "./agreement.js";
import { type Calibration, type CalibrationPair, type Labels, type Safety } from "./calibration.js";
import type { ExpertLabel } from "./expertLabels.js";
import { rubricWithIds } from "../scoring/rubric.js";
import { RunStore as Store } from "../store/runStore.js";
import { UserError, formatIssue, type InputIssue } from "../util/errors.js";

export interface LengthBias {
  /** Scored case repeats behind the figures. */
  n: number;
  /** Spearman ρ between the final answer's length in characters and the case score, with a bootstrap interval. */
  spearman: Interval;
  pearson: number | null;
}

/** The judge's labels of one case (repeat) in a set: axes back on 0–10, safety, rubric verdicts where single-answer. */
function judgeLabels(detailJson: string, row: { result: number | null; reasoning: number | null; approach: number | null; safety: string | null }): Labels {
  const detail = JSON.parse(detailJson) as { unit?: { rubricVerdicts?: Record<string, boolean> } };
  const ten = (x: number | null) => (x === null ? null : x * 10);
  return {
    result: ten(row.result), reasoning: ten(row.reasoning), approach: ten(row.approach),
    safety: (row.safety as Safety | null) ?? null,
    ...(detail.unit?.rubricVerdicts ? { rubric: detail.unit.rubricVerdicts } : {}),
  };
}

/**
 * (judge, expert) pairs for the labels of a run. Labels naming a case or rubric item the run does not have are
 * errors (file:line); cases the judge left unscored are skipped and counted.
 */
export function pairsFromLabels(store: RunStore, runId: string, setId: number, labels: ExpertLabel[], file: string): { pairs: CalibrationPair[]; skipped: { caseId: string; repeat: number; why: string }[] } {
  // Labels are looked up by index: a label file names a few hundred items of a run that may hold 100,000.
  const scoreStmt = store.db.prepare("SELECT * FROM scores WHERE set_id = ? AND case_id = ? AND repeat = ?");
  const issues: InputIssue[] = [];
  const pairs: CalibrationPair[] = [];
  const skipped: { caseId: string; repeat: number; why: string }[] = [];
  for (const l of labels) {
    const row = store.getCase(runId, l.caseId);
    if (!row) {
      issues.push({ file, line: l.line, field: "case_id", message: `"${l.caseId}" is not a case of run ${runId}`, severity: "error" });
      continue;
    }
    if (l.rubric) {
      const ids = new Set(rubricWithIds(Store.parseCase(row).reference.rubric).map((r) => r.id));
      const unknown = Object.keys(l.rubric).filter((id) => !ids.has(id));
      if (unknown.length) {
        issues.push({ file, line: l.line, field: "rubric", message: `unknown item id(s) ${unknown.join(", ")} for case ${l.caseId} (its items: ${[...ids].join(", ") || "none"})`, severity: "error" });
        continue;
      }
    }
    const s = scoreStmt.get(setId, l.caseId, l.repeat) as ScoreRow | undefined;
    if (!s || s.status !== "scored") {
      skipped.push({ caseId: l.caseId, repeat: l.repeat, why: s ? "the judge set left it unscored" : `no score for repeat ${l.repeat}` });
      continue;
    }
    pairs.push({ caseId: l.caseId, dimension: row.dimension, judge: judgeLabels(s.detail_json, s), expert: l });
  }
  if (issues.length) throw new UserError(`${file}: ${issues.length} label(s) do not fit run ${runId}; nothing was used:\n${issues.slice(0, 30).map(formatIssue).join("\n")}`);
  return { pairs, skipped };
}

/** Correlation between answer length and case score in one set (a judge that rewards verbosity shows ρ > 0). */
export function runLengthBias(store: RunStore, runId: string, setId: number, boot: { iterations: number; seed: number }): LengthBias {
  // Answer length (in characters, summed over a group's variants) and score per item, added up by the database.
  const pts = store.db.prepare(
    `SELECT SUM(COALESCE(length(r.answer), 0)) AS len, s.score FROM scores s JOIN responses r ON r.run_id = ? AND r.case_id = s.case_id AND r.repeat = s.repeat AND r.status = 'ok'
     WHERE s.set_id = ? AND s.score IS NOT NULL GROUP BY s.case_id, s.repeat ORDER BY s.case_id, s.repeat`,
  ).all(runId, setId) as { len: number; score: number }[];
  const len = pts.map((p) => p.len);
  const sc = pts.map((p) => p.score);
  return {
    n: pts.length,
    spearman: bootstrapInterval(pts.length, (idx) => spearman(idx.map((i) => len[i]!), idx.map((i) => sc[i]!)), boot),
    pearson: pearson(len, sc),
  };
}

export function saveCalibration(store: RunStore, row: { runId: string; setId: number; source: string; sourceHash: string; calibration: Calibration; lengthBias: LengthBias; skipped: unknown[] }): number {
  const res = store.db.prepare(
    "INSERT INTO calibrations (run_id, set_id, source, source_hash, pairs, result_json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
  ).run(row.runId, row.setId, row.source, row.sourceHash, row.calibration.overall.cases,
    JSON.stringify({ calibration: row.calibration, lengthBias: row.lengthBias, skipped: row.skipped }), nowIso());
  return Number(res.lastInsertRowid);
}

