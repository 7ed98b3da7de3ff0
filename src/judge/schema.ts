import { z } from "zod";

const axis = z.strictObject({
  score: z.number().int("must be an integer 0–10").min(0).max(10),
  why: z.string().min(1, "give a one-line justification"),
});

/** What the judge must return. Parsed strictly: a reply that does not fit is repaired or fails, never guessed at. */
export const judgeReplySchema = z.strictObject({
  rubric: z.array(z.strictObject({
    id: z.string().min(1),
    met: z.boolean(),
    quote: z.string(),
  })),
  result: axis,
  reasoning: axis,
  approach: axis,
  safety: z.strictObject({ verdict: z.enum(["ok", "minor", "critical"]), why: z.string().min(1) }),
  rationale: z.string().min(1),
});
export type JudgeReply = z.infer<typeof judgeReplySchema>;

/** One rubric item's verdict (judge.mode "per-item"). */
export const itemReplySchema = z.strictObject({ id: z.string().min(1), met: z.boolean(), quote: z.string() });
export type ItemReply = z.infer<typeof itemReplySchema>;

export const JUDGE_OUTPUT_EXAMPLE = `{"rubric":[{"id":"r1","met":true,"quote":"答案中的原文"}],"result":{"score":8,"why":"…"},"reasoning":{"score":6,"why":"…"},"approach":{"score":7,"why":"…"},"safety":{"verdict":"ok","why":"…"},"rationale":"…"}`;

export const ITEM_OUTPUT_EXAMPLE = `{"id":"r1","met":true,"quote":"答案中的原文"}`;
