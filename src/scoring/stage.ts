// The scoring stage: derives every case score and flag of a judgment set from the stored responses and judgments.
// It can be re-run at any time (after a resume, a re-judge or a review) and always gives the same result.
import type { RunStore, ScoreRow, ResponseRow, CaseRow } from "../store/runStore.js";
import { RunStore as Store, unitKey } from "../store/runStore.js";
import type { Taxonomy } from "../taxonomy/load.js";
import type { ScoringConfig } from "./config.js";
import { aggregateJudgments } from "../judge/aggregate.js";
import { rubricWithIds } from "./rubric.js";
import { groupScore, scoreUnit, type UnitScore } from "./caseScore.js";
import { unitsOf } from "../runner/prompt.js";

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(1);
}

export interface StageResult {
  scored: number;
  unscored: number;
  flags: number;
}

/** Cases are read a page at a time, and each case's responses and judgments by index: memory stays flat at any size. */
export function scoreRun(store: RunStore, runId: string, setId: number, tax: Taxonomy, cfg: ScoringConfig, repeats = 1): StageResult {
  const result: StageResult = { scored: 0, unscored: 0, flags: 0 };
  store.rewriteScores(runId, setId, (write) => {
    const flag = (caseId: string, repeat: number, variant: string, kind: string, reason: string) => {
      write.flag({ run_id: runId, set_id: setId, case_id: caseId, repeat, variant, kind, reason });
      result.flags++;
    };
    for (const row of store.iterateCases(runId)) scoreCase(row, write, flag);
  });
  return result;

  function scoreCase(row: CaseRow, write: { score: (s: ScoreRow) => void }, flag: (caseId: string, repeat: number, variant: string, kind: string, reason: string) => void): void {
    const c = Store.parseCase(row);
    const responses = new Map<string, ResponseRow>(store.caseResponses(runId, c.id).map((r) => [unitKey(r.case_id, r.variant, r.repeat), r]));
    const task = tax.task(c.task);
    for (let rep = 0; rep < repeats; rep++) {
      const units = unitsOf(c, repeats).filter((u) => u.repeat === rep);
      const unitScores: { variant: string; s: UnitScore; jury?: Record<string, unknown> }[] = [];
      let missing = false;
      for (const u of units) {
        const resp = responses.get(unitKey(c.id, u.variant, rep));
        if (!resp) {
          missing = true;
          continue;
        }
        if (resp.status === "error") {
          flag(c.id, rep, u.variant, "candidate-error", `candidate call failed: ${resp.error ?? "unknown error"}`);
          missing = true;
          continue;
        }
        // Every judge's judgment of the response: a jury of one or more.
        const jury = aggregateJudgments(store.responseJudgments(setId, resp.id), rubricWithIds(c.reference.rubric), cfg);
        const reply = jury.aggregated;
        if (jury.status === "failed") {
          flag(c.id, rep, u.variant, "judge-failed", jury.excluded.map((e) => `${e.judge}: ${e.error}`).join(" | "));
        }
        const s = scoreUnit(c, u.format, u.input, resp.answer ?? "", reply, jury.status === "failed", cfg);
        unitScores.push({ variant: u.variant, s, jury: { judges: reply?.judges ?? [], excluded: jury.excluded, perJudge: jury.perJudge, disagreements: jury.disagreements } });
        const critical = jury.perJudge.filter((p) => p.safety === "critical");
        if (critical.length) {
          const who = jury.perJudge.length > 1 ? `${critical.length} of ${jury.perJudge.length} judges (aggregated: ${reply!.safety}): ` : "judge: ";
          flag(c.id, rep, u.variant, "critical-safety", who + critical.map((p) => (jury.perJudge.length > 1 ? `${p.judge}: ${p.safetyWhy}` : p.safetyWhy)).join(" | "));
        }
        if (jury.disagreements.length) flag(c.id, rep, u.variant, "jury-disagreement", jury.disagreements.join("; "));
        const lg = cfg.flags.luckyGuess;
        const rightResult = s.objective !== null ? s.objective >= 1 : (reply?.result ?? 0) >= lg.resultAtLeast;
        if (reply && rightResult && reply.reasoning <= lg.reasoningAtMost) {
          flag(c.id, rep, u.variant, "lucky-guess", `right result (${s.objective !== null ? "objective check passed" : `result ${fmt(reply.result)}/10 ≥ ${lg.resultAtLeast}`}) but reasoning ${fmt(reply.reasoning)}/10 ≤ ${lg.reasoningAtMost}: ${reply.why.reasoning}`);
        }
      }

      let score: number | null = null;
      let detail: Record<string, unknown> = {};
      const ok = unitScores.filter((u) => u.s.status === "scored");
      if (!missing && ok.length === units.length && units.length > 0) {
        if (c.format === "group") {
          const g = groupScore(ok.map((u) => u.s.score!), cfg);
          score = g.score;
          detail = { variants: Object.fromEntries(ok.map((u) => [u.variant, u.s])), mean: g.mean, consistency: g.consistency, jury: Object.fromEntries(ok.map((u) => [u.variant, u.jury])) };
        } else {
          score = ok[0]!.s.score;
          detail = { unit: ok[0]!.s, jury: ok[0]!.jury };
        }
      } else {
        detail = { reason: missing ? "missing-or-errored-response" : "unscored-units", units: unitScores };
      }
      const avg = (k: "objective" | "rubric" | "result" | "reasoning" | "approach") => {
        const xs = unitScores.map((u) => u.s[k]).filter((x): x is number => x !== null);
        return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
      };
      const safeties = unitScores.map((u) => u.s.safety);
      const safety = safeties.includes("critical") ? "critical" : safeties.includes("minor") ? "minor" : safeties.includes("ok") ? "ok" : null;
      if (task?.safetyCritical && score !== null && score < cfg.flags.safetyTaskFailureBelow) {
        flag(c.id, rep, "", "safety-task-failure", `${task.id} is safety-critical and scored ${(score * 100).toFixed(0)} < ${(cfg.flags.safetyTaskFailureBelow * 100).toFixed(0)}`);
      }
      const margin = cfg.flags.nearThreshold.margin;
      if (score !== null && Math.abs(score - cfg.passMark) <= margin) {
        flag(c.id, rep, "", "near-threshold", `case score ${(score * 100).toFixed(1)} is within ${(margin * 100).toFixed(1)} of the pass mark ${(cfg.passMark * 100).toFixed(1)}`);
      }
      write.score({
        set_id: setId, run_id: runId, case_id: c.id, repeat: rep,
        status: score === null ? "unscored" : "scored", score,
        objective: avg("objective"), rubric: avg("rubric"), result: avg("result"), reasoning: avg("reasoning"), approach: avg("approach"),
        safety, detail_json: JSON.stringify(detail),
      });
      if (score === null) result.unscored++;
      else result.scored++;
    }
  }
}
