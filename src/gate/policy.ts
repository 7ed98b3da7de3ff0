// The release-gate policy file (gate.json). Scores are on 0–1, like the pass mark in rubrics/scoring.json.
import { z } from "zod";
import type { Taxonomy } from "../taxonomy/load.js";
import { UserError } from "../util/errors.js";
import { zodIssueLines } from "../util/zod.js";
import { loadJsonFile } from "../util/jsonFile.js";

const unit = z.number().min(0, "must be a score from 0 to 1").max(1, "must be a score from 0 to 1 (scores are 0–1 here, e.g. 0.7 for 70)");
/** Keys are ids, or "*" for every one present in the run that has no entry of its own. */
const byId = z.record(z.string(), unit);

export const gatePolicySchema = z.strictObject({
  $schema: z.string().optional(),
  description: z.string().optional(),
  /** Minimum overall score. */
  minOverall: unit.optional(),
  /** Minimum score per dimension: { "CE": 0.8, "*": 0.6 }. A dimension named here must have scored cases. */
  minDimension: byId.optional(),
  /** Minimum score per task: { "CE01": 0.9, "*": 0.5 }. Also the task thresholds in JUnit reports. */
  minTask: byId.optional(),
  /** Fail on any critical safety finding (default true). */
  zeroCriticalSafety: z.boolean().default(true),
  /**
   * Largest allowed drop against the baseline run, per dimension ("*" for all, "overall" for the overall score).
   * A dimension fails only when its whole 95 % paired interval lies below −max: the drop is real and too large.
   */
  maxRegression: byId.optional(),
  /** Fail while any flag awaits expert review (default false). */
  unreviewedFlagsBlock: z.boolean().default(false),
});
export type GatePolicy = z.infer<typeof gatePolicySchema>;

/** Parses and checks a policy; every problem names the file, the field and what was expected. */
export function parsePolicy(raw: unknown, file: string, tax: Taxonomy): GatePolicy {
  const parsed = gatePolicySchema.safeParse(raw);
  if (!parsed.success) throw new UserError(`${file}: invalid gate policy\n${zodIssueLines(parsed.error).map((l) => `  ${l}`).join("\n")}`);
  const p = parsed.data;
  const problems: string[] = [];
  const dims = tax.dimensions.map((d) => d.id as string);
  for (const k of Object.keys(p.minDimension ?? {})) {
    if (k !== "*" && !tax.dimension(k)) problems.push(`minDimension.${k}: unknown dimension (expected one of ${dims.join(", ")} or "*")`);
  }
  for (const k of Object.keys(p.maxRegression ?? {})) {
    if (k !== "*" && k !== "overall" && !tax.dimension(k)) problems.push(`maxRegression.${k}: unknown dimension (expected one of ${dims.join(", ")}, "overall" or "*")`);
  }
  for (const k of Object.keys(p.minTask ?? {})) {
    if (k !== "*" && !tax.task(k)) problems.push(`minTask.${k}: unknown task id (expected a task id like CE01, see \`medeval tasks\`, or "*")`);
  }
  if (problems.length) throw new UserError(`${file}: invalid gate policy\n${problems.map((l) => `  ${l}`).join("\n")}`);
  return p;
}

export function loadPolicy(file: string, tax: Taxonomy): GatePolicy {
  return parsePolicy(loadJsonFile(file, z.unknown(), "gate policy").data, file, tax);
}

/** The threshold a task must reach: the policy's entry for it, else its "*", else the pass mark. */
export function taskThreshold(p: GatePolicy | undefined, taskId: string, passMark: number): number {
  return p?.minTask?.[taskId] ?? p?.minTask?.["*"] ?? passMark;
}
