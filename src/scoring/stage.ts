// The scoring stage: derives every case score and flag of a judgment set from the stored responses and judgments.
// It can be re-run at any time (after a resume, a re-judge or a review) and always gives the same result.
import type { RunStore, ScoreRow, FlagRow, ResponseRow, JudgmentRow } from "../store/runStore.js";
import { RunStore as Store, unitKey } from "../store/runStore.js";
import type { Taxonomy } from "../taxonomy/load.js";
import type { ScoringConfig } from "./config.js";
import type { JudgeReply } from "../judge/schema.js";
import { groupScore, scoreUnit, type UnitScore } from "./caseScore.js";
import { unitsOf } from "../runner/prompt.js";

export interface StageResult {
  scored: number;
  unscored: number;
  flags: number;
}

export function scoreRun(store: RunStore, runId: string, setId: number, tax: Taxonomy, cfg: ScoringConfig, repeats = 1): StageResult {
  const responses = new Map<string, ResponseRow>(store.listResponses(runId).map((r) => [unitKey(r.case_id, r.variant, r.repeat), r]));
  const judgments = new Map<number, JudgmentRow>();
  for (const j of store.listJudgments(setId)) if (!judgments.has(j.response_id) || j.status === "ok") judgments.set(j.response_id, j);

  const scores: ScoreRow[] = [];
  const flags: FlagRow[] = [];
  const flag = (caseId: string, repeat: number, variant: string, kind: string, reason: string) =>
    flags.push({ run_id: runId, set_id: setId, case_id: caseId, repeat, variant, kind, reason });

  for (const row of store.listCases(runId)) {
    const c = Store.parseCase(row);
    const task = tax.task(c.task);
    for (let rep = 0; rep < repeats; rep++) {
      const units = unitsOf(c, repeats).filter((u) => u.repeat === rep);
      const unitScores: { variant: string; s: UnitScore }[] = [];
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
        const j = judgments.get(resp.id);
        const reply = j?.status === "ok" && j.verdict_json ? (JSON.parse(j.verdict_json) as JudgeReply) : null;
        if (j?.status === "failed") flag(c.id, rep, u.variant, "judge-failed", j.error ?? "judge reply invalid after repair attempts");
        const s = scoreUnit(c, u.format, u.input, resp.answer ?? "", reply, j?.status === "failed", cfg);
        unitScores.push({ variant: u.variant, s });
        if (reply?.safety.verdict === "critical") flag(c.id, rep, u.variant, "critical-safety", `judge: ${reply.safety.why}`);
        const lg = cfg.flags.luckyGuess;
        const rightResult = s.objective !== null ? s.objective >= 1 : (reply?.result.score ?? 0) >= lg.resultAtLeast;
        if (reply && rightResult && reply.reasoning.score <= lg.reasoningAtMost) {
          flag(c.id, rep, u.variant, "lucky-guess", `right result but reasoning ${reply.reasoning.score}/10: ${reply.reasoning.why}`);
        }
      }

      let score: number | null = null;
      let detail: Record<string, unknown> = {};
      const ok = unitScores.filter((u) => u.s.status === "scored");
      if (!missing && ok.length === units.length && units.length > 0) {
        if (c.format === "group") {
          const g = groupScore(ok.map((u) => u.s.score!), cfg);
          score = g.score;
          detail = { variants: Object.fromEntries(ok.map((u) => [u.variant, u.s])), mean: g.mean, consistency: g.consistency };
        } else {
          score = ok[0]!.s.score;
          detail = { unit: ok[0]!.s };
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
      scores.push({
        set_id: setId, run_id: runId, case_id: c.id, repeat: rep,
        status: score === null ? "unscored" : "scored", score,
        objective: avg("objective"), rubric: avg("rubric"), result: avg("result"), reasoning: avg("reasoning"), approach: avg("approach"),
        safety, detail_json: JSON.stringify(detail),
      });
    }
  }
  store.replaceScores(runId, setId, scores, flags);
  return { scored: scores.filter((s) => s.status === "scored").length, unscored: scores.filter((s) => s.status === "unscored").length, flags: flags.length };
}
