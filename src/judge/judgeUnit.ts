// Judges one stored response and stores the judgment. The runner calls it after each answer; re-judging reuses it.
// judge.mode decides the calls: "all-items" grades every rubric item and the axes in one call; "per-item" asks one
// call per rubric item (isolated: an item cannot sway another) plus one call for the axes, at more cost.
import type { Adapter } from "../adapters/types.js";
import type { Message } from "../dataset/schema.js";
import type { Taxonomy } from "../taxonomy/load.js";
import type { ScoringConfig } from "../scoring/config.js";
import type { RunStore } from "../store/runStore.js";
import type { Unit } from "../runner/prompt.js";
import { renderItemPrompt, renderJudgePrompt, type JudgeInput, type JudgeTemplates } from "./prompt.js";
import { runJudge, runValidated, validateItemReply, type JudgeOutcome } from "./judge.js";
import type { ItemReply } from "./schema.js";
import { objectiveScore } from "../scoring/caseScore.js";
import { rubricWithIds } from "../scoring/rubric.js";
import { hashOf, sha256 } from "../util/hash.js";
import { UserError } from "../util/errors.js";

export interface JudgeUnitContext {
  store: RunStore;
  setId: number;
  judge: Adapter;
  judgeName: string;
  templates: JudgeTemplates;
  tax: Taxonomy;
  scoring: ScoringConfig;
  /** Reuse identical earlier judgments from this database (default true). */
  cache?: boolean;
}

export interface ResponseJudgment extends JudgeOutcome {
  /** Hash of the exact prompt; in per-item mode, of every call's prompt hash in order. */
  promptHash: string;
  mode: "all-items" | "per-item";
}

export type JudgeEnv = Pick<JudgeUnitContext, "templates" | "tax" | "scoring">;

/** Judges one answer without storing anything (re-judging, the validity set and the runner share it). */
export async function judgeResponse(env: JudgeEnv, judge: Adapter, u: Unit, shown: Message[], answer: string, reasoning: string | null): Promise<ResponseJudgment> {
  const task = env.tax.task(u.case.task);
  if (!task) throw new UserError(`case ${u.case.id}: unknown task ${u.case.task}`);
  const lang = u.case.provenance.language;
  const obj = objectiveScore(u.case, u.format, u.input, answer);
  const input: JudgeInput = { case: u.case, task, shown, answer, reasoning, objective: obj?.summary ?? null };
  const items = rubricWithIds(u.case.reference.rubric);
  const repairs = env.scoring.judge.repairAttempts;
  const mode = env.scoring.judge.mode;

  if (mode === "all-items" || items.length === 0) {
    const prompt = renderJudgePrompt(env.templates[lang], input);
    const out = await runJudge(judge, prompt.messages, items.map((r) => r.id), repairs, lang);
    return { ...out, promptHash: prompt.hash, mode };
  }

  const itemTemplates = env.templates.item;
  if (!itemTemplates) throw new UserError(`judge.mode "per-item" needs rubrics/judge/item.${lang}.${env.templates.version}.md`);
  const total: ResponseJudgment = { status: "failed", reply: null, raw: [], attempts: 0, error: null, promptTokens: 0, completionTokens: 0, latencyMs: 0, promptHash: "", mode };
  const hashes: string[] = [];
  const add = (o: { raw: string[]; attempts: number; promptTokens: number; completionTokens: number; latencyMs: number }) => {
    total.raw.push(...o.raw);
    total.attempts += o.attempts;
    total.promptTokens += o.promptTokens;
    total.completionTokens += o.completionTokens;
    total.latencyMs += o.latencyMs;
  };
  // Sequential on purpose: the runner bounds units in flight, and per-item must not multiply that by the item count.
  const verdicts: ItemReply[] = [];
  for (const item of items) {
    const prompt = renderItemPrompt(itemTemplates[lang], input, item);
    hashes.push(prompt.hash);
    const out = await runValidated(judge, prompt.messages, (text) => validateItemReply(text, item.id), repairs, lang);
    add(out);
    if (out.status === "failed" || !out.reply) {
      // One item without a verdict leaves the rubric score undefined: the whole judgment fails, and no more is spent.
      return { ...total, error: `rubric item ${item.id}: ${out.error ?? "no verdict"}`, promptHash: sha256(hashes.join(",")) };
    }
    verdicts.push(out.reply);
  }
  const axesPrompt = renderJudgePrompt(env.templates[lang], input, { rubricItems: false });
  hashes.push(axesPrompt.hash);
  const axes = await runJudge(judge, axesPrompt.messages, [], repairs, lang);
  add(axes);
  const promptHash = sha256(hashes.join(","));
  if (axes.status === "failed" || !axes.reply) return { ...total, error: `axes: ${axes.error ?? "no verdict"}`, promptHash };
  return { ...total, status: "ok", reply: { ...axes.reply, rubric: verdicts }, error: null, promptHash };
}

/** Everything that changes a judgment: judge settings (no secret), prompt templates, mode, the case and the answer. */
export function judgmentCacheKey(ctx: JudgeUnitContext, u: Unit, shown: Message[], answer: string, reasoning: string | null): string {
  const { apiKeyEnv: _ignored, ...settings } = ctx.judge.describe();
  const j = ctx.scoring.judge;
  return hashOf({ settings, templates: ctx.templates.hash, mode: j.mode, repairs: j.repairAttempts, case: u.case, variant: u.variant, shown, answer, reasoning });
}

export async function judgeUnit(ctx: JudgeUnitContext, u: Unit, shown: Message[], responseId: number, answer: string, reasoning: string | null): Promise<JudgeOutcome> {
  const key = ctx.cache === false || ctx.judge.kind === "mock" ? null : judgmentCacheKey(ctx, u, shown, answer, reasoning);
  const hit = key ? ctx.store.findCachedJudgment(key) : undefined;
  if (hit) {
    // An identical judgment was already paid for: copy it, marked as cached, at no token cost.
    ctx.store.saveJudgment({ ...hit, set_id: ctx.setId, response_id: responseId, judge: ctx.judgeName, cached: 1, prompt_tokens: 0, completion_tokens: 0, latency_ms: 0 });
    const reply = hit.verdict_json ? (JSON.parse(hit.verdict_json) as JudgeOutcome["reply"]) : null;
    return { status: "ok", reply, raw: [], attempts: 0, error: null, promptTokens: 0, completionTokens: 0, latencyMs: 0 };
  }
  const out = await judgeResponse(ctx, ctx.judge, u, shown, answer, reasoning);
  const judgeCfg = ctx.judge.describe();
  ctx.store.saveJudgment({
    set_id: ctx.setId, response_id: responseId, judge: ctx.judgeName, status: out.status,
    result: out.reply?.result.score ?? null, reasoning: out.reply?.reasoning.score ?? null, approach: out.reply?.approach.score ?? null,
    safety: out.reply?.safety.verdict ?? null, verdict_json: out.reply ? JSON.stringify(out.reply) : null, raw_json: JSON.stringify(out.raw),
    attempts: out.attempts, error: out.error, prompt_hash: out.promptHash,
    temperature: typeof judgeCfg.temperature === "number" ? judgeCfg.temperature : null, seed: typeof judgeCfg.seed === "number" ? judgeCfg.seed : null,
    prompt_tokens: out.promptTokens, completion_tokens: out.completionTokens, latency_ms: out.latencyMs,
    cache_key: out.status === "ok" ? key : null,
  });
  return out;
}
