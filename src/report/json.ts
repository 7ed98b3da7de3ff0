// The report document: one versioned, zod-described shape that every format (JSON, HTML, Markdown, CSV, JUnit) renders.
// Consumers can validate a stored report with `reportSchema.parse(JSON.parse(text))`.
import { z } from "zod";

/** Bump on any change a consumer could notice; additive fields keep the major number. */
export const REPORT_SCHEMA_VERSION = "1.0.0";

const score = z.number().min(0).max(1).nullable();

export const estimateSchema = z.strictObject({
  /** 0–1; null when nothing was scored. */
  mean: score,
  /** 95 % bootstrap interval (seeded, reproducible). */
  lo: score,
  hi: score,
  /** Scored cases behind the estimate. */
  n: z.number().int().min(0),
});

export const dimensionSchema = estimateSchema.extend({
  id: z.string(),
  zh: z.string(),
  en: z.string(),
  weight: z.number(),
  /** Tasks with at least one scored case. */
  tasks: z.number().int().min(0),
});

export const taskSchema = estimateSchema.extend({
  id: z.string(),
  dimension: z.string(),
  zh: z.string(),
  en: z.string(),
  safetyCritical: z.boolean(),
  unscored: z.number().int().min(0),
  /** Candidate call errors plus failed judgments in this task. */
  errors: z.number().int().min(0),
  /** Cases with at least one flag. */
  flagged: z.number().int().min(0),
  /** Flagged cases an expert has reviewed. */
  reviewed: z.number().int().min(0),
  criticalFindings: z.number().int().min(0),
  /** The pass threshold applied (gate policy if given, else the scoring config's pass mark). */
  threshold: z.number().min(0).max(1),
  /** mean ≥ threshold and no critical finding; null when nothing was scored. */
  passed: z.boolean().nullable(),
});

const tokens = z.strictObject({ calls: z.number().int(), promptTokens: z.number().int(), completionTokens: z.number().int() });

export const provenanceSchema = z.strictObject({
  toolVersion: z.string(),
  taxonomyVersion: z.string(),
  taxonomyHash: z.string(),
  scoringHash: z.string(),
  passMark: z.number(),
  /** Adapter descriptions as stored with the run: endpoint, model, parameters, the *name* of the key variable — never a key. */
  candidate: z.unknown(),
  judges: z.unknown(),
  judgePromptVersion: z.string(),
  judgePromptHash: z.string(),
  /** Hashes of the exact prompts the judge saw (one per language/template in use). */
  judgePromptHashes: z.array(z.string()),
  datasets: z.array(z.strictObject({ path: z.string(), sha256: z.string(), cases: z.number().int() })),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  tokens: z.strictObject({ candidate: tokens, judge: tokens }),
  /** From the run's price table; a side is null where its model has no price; the whole is null when the run has none. */
  cost: z.strictObject({ candidate: z.number().nullable(), judge: z.number().nullable(), currency: z.string().nullable() }).nullable(),
});

export const findingCategorySchema = z.strictObject({
  kind: z.string(),
  severity: z.enum(["critical", "warning"]),
  task: z.string(),
  dimension: z.string(),
  count: z.number().int().min(1),
});

export const reviewStateSchema = z.enum(["not-flagged", "unreviewed", "reviewed"]);

export const reviewSummarySchema = z.strictObject({
  /** Where review state came from: no review records in this database, or the reviews table. */
  source: z.enum(["none", "reviews-table"]),
  flaggedCases: z.number().int().min(0),
  reviewedCases: z.number().int().min(0),
  unreviewedCases: z.number().int().min(0),
  signOff: z.strictObject({ by: z.string(), at: z.string() }).nullable(),
});

export const findingSchema = z.strictObject({
  kind: z.string(),
  severity: z.enum(["critical", "warning"]),
  task: z.string(),
  dimension: z.string(),
  caseId: z.string(),
  repeat: z.number().int(),
  variant: z.string(),
  reason: z.string(),
  reviewState: reviewStateSchema,
});

const caseInputSchema = z.strictObject({
  variant: z.string(),
  system: z.string().nullable(),
  context: z.string().nullable(),
  question: z.string().nullable(),
  options: z.record(z.string(), z.string()).nullable(),
  messages: z.array(z.strictObject({ role: z.string(), content: z.string() })).nullable(),
});

const judgmentDetailSchema = z.strictObject({
  variant: z.string(),
  judge: z.string(),
  status: z.enum(["ok", "failed"]),
  result: z.number().nullable(),
  reasoning: z.number().nullable(),
  approach: z.number().nullable(),
  safety: z.string().nullable(),
  /** The judge's one-line reasons per axis and its overall rationale. */
  why: z.strictObject({ result: z.string(), reasoning: z.string(), approach: z.string(), safety: z.string() }).nullable(),
  rationale: z.string().nullable(),
  rubric: z.array(z.strictObject({ id: z.string(), met: z.boolean(), quote: z.string() })),
  promptHash: z.string(),
  error: z.string().nullable(),
});

export const caseDetailSchema = z.strictObject({
  caseId: z.string(),
  repeat: z.number().int(),
  task: z.string(),
  dimension: z.string(),
  format: z.string(),
  specialty: z.string(),
  difficulty: z.string(),
  language: z.string(),
  status: z.enum(["scored", "unscored", "missing"]),
  score,
  components: z.strictObject({ objective: score, rubric: score, result: score, reasoning: score, approach: score }),
  safety: z.string().nullable(),
  passed: z.boolean().nullable(),
  flags: z.array(z.strictObject({ kind: z.string(), variant: z.string(), reason: z.string() })),
  reviewState: reviewStateSchema,
  inputs: z.array(caseInputSchema),
  reference: z.strictObject({
    answer: z.unknown(),
    rationale: z.string().nullable(),
    keyPoints: z.array(z.string()),
    rubric: z.array(z.strictObject({ id: z.string(), criterion: z.string(), points: z.number() })),
  }),
  responses: z.array(z.strictObject({
    variant: z.string(), status: z.enum(["ok", "error"]), answer: z.string().nullable(), reasoning: z.string().nullable(),
    error: z.string().nullable(), model: z.string().nullable(),
  })),
  judgments: z.array(judgmentDetailSchema),
  /** Review records as stored by the review feature (shape owned by it). */
  reviews: z.array(z.record(z.string(), z.unknown())),
});

const common = {
  schema: z.literal("medeval-report"),
  schemaVersion: z.literal(REPORT_SCHEMA_VERSION),
  generatedAt: z.string(),
  run: z.strictObject({ id: z.string(), status: z.string(), profile: z.string().nullable(), judgmentSet: z.string() }),
  provenance: provenanceSchema,
  totals: z.strictObject({
    cases: z.number().int(), scored: z.number().int(), unscored: z.number().int(),
    candidateErrors: z.number().int(), judgeFailures: z.number().int(), flaggedCases: z.number().int(),
  }),
  overall: estimateSchema,
  dimensions: z.array(dimensionSchema),
  tasks: z.array(taskSchema),
  /** Anonymous: which kind of finding, in which task, how many. Critical first. */
  findingCategories: z.array(findingCategorySchema),
  review: reviewSummarySchema,
};

/** The internal (evaluation-centre) report: everything, including case text and judge rationales. */
export const internalReportSchema = z.strictObject({
  ...common,
  audience: z.literal("internal"),
  /** Every finding, critical first. */
  findings: z.array(findingSchema),
  /** Which cases the drill-down holds: all, the flagged ones, or none (large runs default to flagged; see --cases). */
  caseDetail: z.strictObject({ included: z.enum(["all", "flagged", "none"]), shown: z.number().int(), total: z.number().int() }),
  /** One entry per case and repeat, for the cases caseDetail says. */
  cases: z.array(caseDetailSchema),
});

/** The vendor report: aggregates and anonymous finding categories only. Strict: a case field here fails validation. */
export const vendorReportSchema = z.strictObject({ ...common, audience: z.literal("vendor") });

export const reportSchema = z.discriminatedUnion("audience", [internalReportSchema, vendorReportSchema]);

export type Report = z.infer<typeof reportSchema>;
export type InternalReport = z.infer<typeof internalReportSchema>;
export type VendorReport = z.infer<typeof vendorReportSchema>;
export type CaseDetail = z.infer<typeof caseDetailSchema>;
export type TaskRow = z.infer<typeof taskSchema>;
export type Audience = Report["audience"];

export function renderJson(r: Report): string {
  // Validate on the way out: a report that does not match its published schema is a bug, not a file to hand out.
  reportSchema.parse(r);
  return JSON.stringify(r, null, 2) + "\n";
}
