// One judgment: call the judge, validate its JSON, feed validation errors back for a bounded number of repairs.
import type { Adapter } from "../adapters/types.js";
import type { Message } from "../dataset/schema.js";
import { judgeReplySchema, itemReplySchema, type ItemReply, type JudgeReply } from "./schema.js";
import { parseJsonObject } from "../scoring/extraction.js";
import { errorMessage } from "../util/errors.js";

export interface JudgeOutcome {
  status: "ok" | "failed";
  reply: JudgeReply | null;
  /** Every raw reply text, in order, for audit. */
  raw: string[];
  attempts: number;
  error: string | null;
  promptTokens: number;
  completionTokens: number;
  latencyMs: number;
}

/** Returns the validated reply, or a message saying exactly what is wrong with it. */
export function validateJudgeReply(text: string, rubricIds: string[]): { reply: JudgeReply } | { error: string } {
  const obj = parseJsonObject(text);
  if (!obj) return { error: "the reply is not a JSON object" };
  const parsed = judgeReplySchema.safeParse(obj);
  if (!parsed.success) {
    return { error: parsed.error.issues.slice(0, 8).map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ") };
  }
  const got = parsed.data.rubric.map((r) => r.id);
  const missing = rubricIds.filter((id) => !got.includes(id));
  const unknown = got.filter((id) => !rubricIds.includes(id));
  const dupes = got.filter((id, i) => got.indexOf(id) !== i);
  const problems = [
    missing.length ? `rubric: missing verdicts for ${missing.join(", ")}` : "",
    unknown.length ? `rubric: unknown item ids ${unknown.join(", ")} (expected ${rubricIds.join(", ") || "an empty list"})` : "",
    dupes.length ? `rubric: duplicate verdicts for ${[...new Set(dupes)].join(", ")}` : "",
  ].filter(Boolean);
  return problems.length ? { error: problems.join("; ") } : { reply: parsed.data };
}

/** Validates a per-item reply: the one expected rubric id, met, quote. */
export function validateItemReply(text: string, id: string): { reply: ItemReply } | { error: string } {
  const obj = parseJsonObject(text);
  if (!obj) return { error: "the reply is not a JSON object" };
  const parsed = itemReplySchema.safeParse(obj);
  if (!parsed.success) {
    return { error: parsed.error.issues.slice(0, 8).map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ") };
  }
  return parsed.data.id === id ? { reply: parsed.data } : { error: `id: expected "${id}", got "${parsed.data.id}"` };
}

export interface ValidatedOutcome<T> extends Omit<JudgeOutcome, "reply"> {
  reply: T | null;
}

/** Calls the judge and validates its reply, feeding each validation error back, at most `repairAttempts` times. */
export async function runValidated<T>(
  judge: Adapter, prompt: Message[], validate: (text: string) => { reply: T } | { error: string }, repairAttempts: number, lang: "zh" | "en",
): Promise<ValidatedOutcome<T>> {
  const messages = [...prompt];
  const out: ValidatedOutcome<T> = { status: "failed", reply: null, raw: [], attempts: 0, error: null, promptTokens: 0, completionTokens: 0, latencyMs: 0 };
  for (let attempt = 0; attempt <= repairAttempts; attempt++) {
    out.attempts = attempt + 1;
    let text: string;
    try {
      const r = await judge.complete({ messages, json: true });
      if (!r.cached) {
        // Tokens are what was paid for: a reply from the response cache cost nothing.
        out.promptTokens += r.usage?.promptTokens ?? 0;
        out.completionTokens += r.usage?.completionTokens ?? 0;
      }
      out.latencyMs += r.latencyMs;
      // A reasoning judge may think first; only its final answer is the verdict.
      text = r.answer;
    } catch (err) {
      out.error = `judge call failed: ${errorMessage(err)}`;
      return out; // transport errors are not repaired by rephrasing
    }
    out.raw.push(text);
    const v = validate(text);
    if ("reply" in v) {
      out.status = "ok";
      out.reply = v.reply;
      out.error = null;
      return out;
    }
    out.error = `invalid judge reply: ${v.error}`;
    messages.push({ role: "assistant", content: text || "(empty)" });
    messages.push({
      role: "user",
      content: lang === "zh"
        ? `你的输出不符合要求：${v.error}。请只输出一个符合规定结构的 JSON 对象，不要输出其他文字。`
        : `Your output is invalid: ${v.error}. Output only one JSON object of the required shape, nothing else.`,
    });
  }
  return out;
}

export async function runJudge(judge: Adapter, prompt: Message[], rubricIds: string[], repairAttempts: number, lang: "zh" | "en"): Promise<JudgeOutcome> {
  return runValidated(judge, prompt, (text) => validateJudgeReply(text, rubricIds), repairAttempts, lang);
}
