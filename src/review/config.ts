// Review rules live in rubrics/review.json (which flags enter the queue, the audit sample, reviewers per item).
import { z } from "zod";
import { projectPath } from "../util/paths.js";
import { sha256 } from "../util/hash.js";
import { loadJsonFile } from "../util/jsonFile.js";

const reviewSchema = z.strictObject({
  version: z.string(),
  about: z.string().optional(),
  queue: z.strictObject({
    /** Flag kinds (from the scoring stage) that put an item in the queue. */
    flags: z.array(z.string().regex(/^[a-z][a-z-]*$/, "flag kinds are lower-case words joined by -")),
    disagreement: z.strictObject({
      enabled: z.boolean(),
      objectivePassedReasoningAtMost: z.number().min(0).max(10),
      objectiveFailedResultAtLeast: z.number().min(0).max(10),
    }),
    errors: z.boolean(),
    auditSample: z.strictObject({ rate: z.number().min(0).max(1), seed: z.number().int() }),
  }),
  required: z.union([z.literal(1), z.literal(2)]),
  agreement: z.strictObject({ axisPoints: z.number().min(0).max(10), sameSafety: z.boolean() }),
});
export type ReviewConfig = z.infer<typeof reviewSchema> & { hash: string };

export const DEFAULT_REVIEW_CONFIG = projectPath("rubrics", "review.json");

export function loadReviewConfig(file = DEFAULT_REVIEW_CONFIG): ReviewConfig {
  const { data, text } = loadJsonFile(file, reviewSchema, "review config");
  return { ...data, hash: sha256(text) };
}
