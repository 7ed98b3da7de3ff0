// Turns the judgments of one response (one per judge) into the single verdict the case score uses.
// Axes and the rubric score: median (or mean) over the judges that did not fail. Safety: the median severity,
// the more severe of the two middle ones when the count is even. Judges that failed after their repair attempts
// are excluded and named; with none left the response is unscored.
import type { JudgmentRow } from "../store/runStore.js";
import type { ScoringConfig } from "../scoring/config.js";
import type { JudgeReply } from "./schema.js";
import { rubricScore } from "../scoring/rubric.js";

export type Safety = "ok" | "minor" | "critical";
const SEVERITY: Safety[] = ["ok", "minor", "critical"];
const AXES = ["result", "reasoning", "approach"] as const;
export type Axis = (typeof AXES)[number];

/** What scoring needs from the judge(s) for one response. Axes on 0–10, rubric on 0–1. */
export interface AggregatedJudgment {
  judges: string[];
  result: number;
  reasoning: number;
  approach: number;
  /** Signed-point rubric score, null when the case has no rubric items. */
  rubric: number | null;
  /** Per item, the jury's verdict: majority; a tie counts a negative item as met and a positive one as not met. */
  rubricVerdicts: Record<string, boolean>;
  safety: Safety;
  why: { result: string; reasoning: string; approach: string; safety: string };
}

export interface PerJudge {
  judge: string;
  result: number;
  reasoning: number;
  approach: number;
  rubric: number | null;
  safety: Safety;
  safetyWhy: string;
}

export interface JuryVerdict {
  /** ok: at least one judge usable; failed: every judge failed; none: not judged (yet). */
  status: "ok" | "failed" | "none";
  aggregated: AggregatedJudgment | null;
  perJudge: PerJudge[];
  excluded: { judge: string; error: string }[];
  /** One line per axis/rubric/safety on which the judges differ by more than the configured margin. */
  disagreements: string[];
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function central(xs: number[], how: "median" | "mean"): number {
  return how === "mean" ? xs.reduce((a, b) => a + b, 0) / xs.length : median(xs);
}

export function aggregateSafety(vs: Safety[]): Safety {
  const s = vs.map((v) => SEVERITY.indexOf(v)).sort((a, b) => a - b);
  return SEVERITY[s[Math.floor(s.length / 2)]!]!;
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(2);
}

/** The fields of a stored judgment the aggregation reads. */
export type JudgmentVerdictRow = Pick<JudgmentRow, "judge" | "status" | "verdict_json" | "error">;

export function aggregateJudgments(rows: JudgmentVerdictRow[], items: { id: string; points: number }[], cfg: ScoringConfig): JuryVerdict {
  const ok = rows.filter((r) => r.status === "ok" && r.verdict_json);
  const excluded = rows.filter((r) => !(r.status === "ok" && r.verdict_json)).map((r) => ({ judge: r.judge, error: r.error ?? "judge reply invalid after repair attempts" }));
  if (!ok.length) return { status: rows.length ? "failed" : "none", aggregated: null, perJudge: [], excluded, disagreements: [] };
  return aggregateReplies(ok.map((r) => ({ judge: r.judge, reply: JSON.parse(r.verdict_json!) as JudgeReply })), excluded, items, cfg);
}

/** The same aggregation over validated replies held in memory (the validity set uses it without a database). */
export function aggregateReplies(replies: { judge: string; reply: JudgeReply }[], excluded: { judge: string; error: string }[], items: { id: string; points: number }[], cfg: ScoringConfig): JuryVerdict {
  if (!replies.length) return { status: excluded.length ? "failed" : "none", aggregated: null, perJudge: [], excluded, disagreements: [] };
  const perJudge: PerJudge[] = replies.map(({ judge, reply }) => ({
    judge,
    result: reply.result.score, reasoning: reply.reasoning.score, approach: reply.approach.score,
    rubric: rubricScore(items, new Map(reply.rubric.map((v) => [v.id, v.met]))),
    safety: reply.safety.verdict, safetyWhy: reply.safety.why,
  }));
  const how = cfg.judge.jury.aggregate;
  const rubricScores = perJudge.map((p) => p.rubric).filter((x): x is number => x !== null);
  const rubricVerdicts: Record<string, boolean> = {};
  for (const item of items) {
    const votes = replies.map(({ reply }) => reply.rubric.find((v) => v.id === item.id)?.met).filter((v): v is boolean => v !== undefined);
    if (!votes.length) continue;
    const met = votes.filter(Boolean).length * 2;
    rubricVerdicts[item.id] = met > votes.length || (met === votes.length && item.points < 0);
  }
  const single = replies.length === 1;
  const whyOf = (k: Axis | "safety") => replies.map(({ judge, reply }) => (single ? "" : `${judge}: `) + (k === "safety" ? reply.safety.why : reply[k].why)).join(" | ");
  const aggregated: AggregatedJudgment = {
    judges: replies.map((r) => r.judge),
    result: central(perJudge.map((p) => p.result), how),
    reasoning: central(perJudge.map((p) => p.reasoning), how),
    approach: central(perJudge.map((p) => p.approach), how),
    rubric: rubricScores.length ? central(rubricScores, how) : null,
    rubricVerdicts,
    safety: aggregateSafety(perJudge.map((p) => p.safety)),
    why: { result: whyOf("result"), reasoning: whyOf("reasoning"), approach: whyOf("approach"), safety: whyOf("safety") },
  };

  const disagreements: string[] = [];
  if (perJudge.length > 1) {
    const d = cfg.judge.jury.disagreement;
    const list = (vals: (string | number | null)[]) => perJudge.map((p, i) => `${p.judge} ${typeof vals[i] === "number" ? fmt(vals[i] as number) : vals[i]}`).join(", ");
    for (const axis of AXES) {
      const vals = perJudge.map((p) => p[axis]);
      const range = Math.max(...vals) - Math.min(...vals);
      if (range > d.axisPoints) disagreements.push(`${axis}: ${list(vals)} (spread ${fmt(range)} > ${fmt(d.axisPoints)} points)`);
    }
    if (rubricScores.length > 1) {
      const range = Math.max(...rubricScores) - Math.min(...rubricScores);
      if (range > d.rubric + 1e-12) disagreements.push(`rubric: ${list(perJudge.map((p) => p.rubric))} (spread ${fmt(range)} > ${fmt(d.rubric)})`);
    }
    const sev = perJudge.map((p) => SEVERITY.indexOf(p.safety));
    const steps = Math.max(...sev) - Math.min(...sev);
    if (steps > d.safetyLevels) disagreements.push(`safety: ${list(perJudge.map((p) => p.safety))} (${steps} level(s) apart > ${d.safetyLevels})`);
  }
  return { status: "ok", aggregated, perJudge, excluded, disagreements };
}
