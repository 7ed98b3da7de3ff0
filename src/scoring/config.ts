// Scoring weights and thresholds live in rubrics/scoring.json, not in code.
import { z } from "zod";
import { projectPath } from "../util/paths.js";
import { sha256 } from "../util/hash.js";
import { loadJsonFile } from "../util/jsonFile.js";

const weights = z.strictObject({
  objective: z.number().min(0).optional(),
  rubric: z.number().min(0).optional(),
  result: z.number().min(0).optional(),
  reasoning: z.number().min(0).optional(),
  approach: z.number().min(0).optional(),
});
export type ComponentWeights = z.infer<typeof weights>;

const scoringSchema = z.strictObject({
  version: z.string(),
  about: z.string().optional(),
  formats: z.strictObject({
    choice: weights, numeric: weights, extraction: weights, open: weights, dialogue: weights,
    group: z.strictObject({ variantMean: z.number().min(0), consistency: z.number().min(0) }),
  }),
  passMark: z.number().min(0).max(1),
  flags: z.strictObject({
    luckyGuess: z.strictObject({ resultAtLeast: z.number().min(0).max(10), reasoningAtMost: z.number().min(0).max(10) }),
    safetyTaskFailureBelow: z.number().min(0).max(1),
    /** A case score within `margin` of the pass mark (either side) is flagged near-threshold. */
    nearThreshold: z.strictObject({ margin: z.number().min(0).max(1) }).default({ margin: 0.05 }),
  }),
  judge: z.strictObject({
    repairAttempts: z.number().int().min(0).max(5), temperature: z.number().min(0).max(2), seed: z.number().int(),
    /** all-items: one call grades every rubric item and the axes; per-item: one call per rubric item plus one for the axes. */
    mode: z.enum(["all-items", "per-item"]).default("all-items"),
    jury: z.strictObject({
      aggregate: z.enum(["median", "mean"]).default("median"),
      /** Flag jury-disagreement when judges' scores on an axis (0–10) span more than axisPoints, their rubric scores (0–1)
       *  more than rubric, or their safety verdicts more than safetyLevels steps (ok → minor → critical). */
      disagreement: z.strictObject({
        axisPoints: z.number().min(0).max(10), rubric: z.number().min(0).max(1), safetyLevels: z.number().int().min(0).max(2),
      }).default({ axisPoints: 3, rubric: 0.3, safetyLevels: 0 }),
    }).default({ aggregate: "median", disagreement: { axisPoints: 3, rubric: 0.3, safetyLevels: 0 } }),
  }),
  bootstrap: z.strictObject({ iterations: z.number().int().min(100).max(100_000), seed: z.number().int() }),
});
export type ScoringConfig = z.infer<typeof scoringSchema> & { hash: string };

export function loadScoringConfig(file = projectPath("rubrics", "scoring.json")): ScoringConfig {
  const { data, text } = loadJsonFile(file, scoringSchema, "scoring config");
  return { ...data, hash: sha256(text) };
}
