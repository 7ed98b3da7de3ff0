// Judges one stored response and stores the judgment. The runner calls it after each answer; re-judging reuses it.
import type { Adapter } from "../adapters/types.js";
import type { Message } from "../dataset/schema.js";
import type { Taxonomy } from "../taxonomy/load.js";
import type { ScoringConfig } from "../scoring/config.js";
import type { RunStore } from "../store/runStore.js";
import type { Unit } from "../runner/prompt.js";
import { renderJudgePrompt, type JudgeTemplates } from "./prompt.js";
import { runJudge, type JudgeOutcome } from "./judge.js";
import { objectiveScore } from "../scoring/caseScore.js";
import { rubricWithIds } from "../scoring/rubric.js";

export interface JudgeUnitContext {
  store: RunStore;
  setId: number;
  judge: Adapter;
  judgeName: string;
  templates: JudgeTemplates;
  tax: Taxonomy;
  scoring: ScoringConfig;
}

export async function judgeUnit(ctx: JudgeUnitContext, u: Unit, shown: Message[], responseId: number, answer: string, reasoning: string | null): Promise<JudgeOutcome> {
  const task = ctx.tax.task(u.case.task)!;
  const lang = u.case.provenance.language;
  const obj = objectiveScore(u.case, u.format, u.input, answer);
  const prompt = renderJudgePrompt(ctx.templates[lang], { case: u.case, task, shown, answer, reasoning, objective: obj?.summary ?? null });
  const ids = rubricWithIds(u.case.reference.rubric).map((r) => r.id);
  const out = await runJudge(ctx.judge, prompt.messages, ids, ctx.scoring.judge.repairAttempts, lang);
  const judgeCfg = ctx.judge.describe();
  ctx.store.saveJudgment({
    set_id: ctx.setId, response_id: responseId, judge: ctx.judgeName, status: out.status,
    result: out.reply?.result.score ?? null, reasoning: out.reply?.reasoning.score ?? null, approach: out.reply?.approach.score ?? null,
    safety: out.reply?.safety.verdict ?? null, verdict_json: out.reply ? JSON.stringify(out.reply) : null, raw_json: JSON.stringify(out.raw),
    attempts: out.attempts, error: out.error, prompt_hash: prompt.hash,
    temperature: typeof judgeCfg.temperature === "number" ? judgeCfg.temperature : null, seed: typeof judgeCfg.seed === "number" ? judgeCfg.seed : null,
    prompt_tokens: out.promptTokens, completion_tokens: out.completionTokens, latency_ms: out.latencyMs,
  });
  return out;
}
