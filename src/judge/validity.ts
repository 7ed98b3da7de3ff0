// The judge's validity set: pairs of answers with the same right conclusion, one reached by sound reasoning and one
// by flawed reasoning (datasets/pairs/reasoning-pairs.jsonl). A trustworthy judge scores the sound one higher;
// this measures the share of pairs where it does. Only a real judge's figure means anything.
import { readFileSync } from "node:fs";
import pLimit from "p-limit";
import { z } from "zod";
import type { Adapter } from "../adapters/types.js";
import type { Case } from "../dataset/schema.js";
import type { Taxonomy } from "../taxonomy/load.js";
import { parseCaseRecord } from "../dataset/load.js";
import { unitMessages, unitsOf } from "../runner/prompt.js";
import { scoreUnit } from "../scoring/caseScore.js";
import { rubricWithIds } from "../scoring/rubric.js";
import { aggregateReplies } from "./aggregate.js";
import { judgeResponse, type JudgeEnv } from "./judgeUnit.js";
import { UserError, formatIssue, type InputIssue } from "../util/errors.js";
import { zodIssueLines } from "../util/zod.js";

const answerSchema = z.strictObject({ reasoning: z.string().min(1), answer: z.string().min(1) });
const pairSchema = z.strictObject({
  case: z.unknown(),
  sound: answerSchema,
  flawed: answerSchema.extend({ flaw: z.string().min(1) }),
});

export interface ReasoningPair {
  line: number;
  case: Case;
  sound: { reasoning: string; answer: string };
  flawed: { reasoning: string; answer: string; flaw: string };
}

export function loadReasoningPairs(file: string, tax: Taxonomy): ReasoningPair[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new UserError(`${file}: cannot read the pairs file (${(err as Error).message})`);
  }
  const issues: InputIssue[] = [];
  const pairs: ReasoningPair[] = [];
  text.replace(/^\uFEFF/, "").split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    if (!raw.trim()) return;
    let obj: unknown;
    try {
      obj = JSON.parse(raw);
    } catch (err) {
      issues.push({ file, line, field: "", message: `not valid JSON (${(err as Error).message})`, severity: "error" });
      return;
    }
    const p = pairSchema.safeParse(obj);
    if (!p.success) {
      for (const l of zodIssueLines(p.error)) issues.push({ file, line, field: "", message: l, severity: "error" });
      return;
    }
    const c = parseCaseRecord(p.data.case, file, line, tax);
    const errors = c.issues.filter((x) => x.severity === "error").map((x) => ({ ...x, field: `case.${x.field}` }));
    if (errors.length || !c.case) {
      issues.push(...errors);
      return;
    }
    if (c.case.format === "group" || c.case.format === "extraction") {
      issues.push({ file, line, field: "case.format", message: `expected a judged single-answer format (choice, numeric, open, dialogue), got ${c.case.format}`, severity: "error" });
      return;
    }
    pairs.push({ line, case: c.case, sound: p.data.sound, flawed: p.data.flawed });
  });
  if (issues.length) throw new UserError(`${file}: ${issues.length} problem(s):\n${issues.slice(0, 20).map(formatIssue).join("\n")}`);
  if (!pairs.length) throw new UserError(`${file}: no pairs`);
  return pairs;
}

export interface ValidityAnswer {
  status: "ok" | "failed";
  /** Case score 0–1 from the configured weights, as the run would score this answer. */
  score: number | null;
  result: number | null;
  reasoning: number | null;
  approach: number | null;
  error: string | null;
}

export type PairOutcome = "sound-higher" | "tie" | "flawed-higher" | "not-compared";

export interface ValidityPair {
  caseId: string;
  flaw: string;
  sound: ValidityAnswer;
  flawed: ValidityAnswer;
  outcome: PairOutcome;
}

export interface ValidityResult {
  judge: string;
  pairs: ValidityPair[];
  /** Pairs where both answers were judged. */
  compared: number;
  soundHigher: number;
  ties: number;
  flawedHigher: number;
  /** soundHigher / compared; null when nothing could be compared. */
  share: number | null;
}

export function pairOutcome(sound: ValidityAnswer, flawed: ValidityAnswer): PairOutcome {
  if (sound.score === null || flawed.score === null) return "not-compared";
  // Scores are sums of fractions: compare with a tolerance so equal grades are a tie, not float noise.
  if (Math.abs(sound.score - flawed.score) < 1e-9) return "tie";
  return sound.score > flawed.score ? "sound-higher" : "flawed-higher";
}

export function summarizeValidity(judge: string, pairs: ValidityPair[]): ValidityResult {
  const count = (o: PairOutcome) => pairs.filter((p) => p.outcome === o).length;
  const compared = pairs.length - count("not-compared");
  return { judge, pairs, compared, soundHigher: count("sound-higher"), ties: count("tie"), flawedHigher: count("flawed-higher"), share: compared ? count("sound-higher") / compared : null };
}

async function judgeAnswer(env: JudgeEnv, judge: Adapter, c: Case, a: { reasoning: string; answer: string }): Promise<ValidityAnswer> {
  const u = unitsOf(c, 1)[0]!;
  const out = await judgeResponse(env, judge, u, unitMessages(u), a.answer, a.reasoning);
  if (out.status === "failed" || !out.reply) return { status: "failed", score: null, result: null, reasoning: null, approach: null, error: out.error };
  const verdict = aggregateReplies([{ judge: judge.name, reply: out.reply }], [], rubricWithIds(c.reference.rubric), env.scoring);
  const s = scoreUnit(c, u.format, u.input, a.answer, verdict.aggregated, false, env.scoring);
  return { status: "ok", score: s.score, result: out.reply.result.score, reasoning: out.reply.reasoning.score, approach: out.reply.approach.score, error: null };
}

/** Judges both answers of every pair (each exactly as a run would) and counts where the sound one scored higher. */
export async function runValidity(judge: Adapter, pairs: ReasoningPair[], env: JudgeEnv, concurrency = 4): Promise<ValidityResult> {
  const limit = pLimit(concurrency);
  const results = await Promise.all(pairs.map((p) => limit(async () => {
    const [sound, flawed] = await Promise.all([judgeAnswer(env, judge, p.case, p.sound), judgeAnswer(env, judge, p.case, p.flawed)]);
    return { caseId: p.case.id, flaw: p.flawed.flaw, sound, flawed, outcome: pairOutcome(sound, flawed) };
  })));
  return summarizeValidity(judge.name, results);
}

export function renderValidity(r: ValidityResult): string {
  const pct = (x: number | null) => (x === null ? "—" : (x * 100).toFixed(1));
  const lines = r.pairs.map((p) => {
    const a = (x: ValidityAnswer) => (x.status === "ok" ? `${pct(x.score)} (reasoning ${x.reasoning}/10)` : `failed: ${x.error}`);
    return `${p.caseId}  ${p.flaw.padEnd(20)}  sound ${a(p.sound)}  flawed ${a(p.flawed)}  → ${p.outcome}`;
  });
  lines.push("");
  lines.push(`judge ${r.judge}: the sound answer scored higher in ${r.soundHigher} of ${r.compared} compared pairs (${pct(r.share)} %); ties ${r.ties}, flawed higher ${r.flawedHigher}, not compared ${r.pairs.length - r.compared}`);
  return lines.join("\n");
}
