// The case format: one JSON object per JSONL line. datasets/README.md documents it for authors.
import { z } from "zod";

export const TASK_ID = /^(CE|EK|GA|QC|WF|DA)\d\d$/;

const nonEmpty = z.string().trim().min(1, "must be a non-empty string");

export const messageSchema = z.strictObject({
  role: z.enum(["system", "user", "assistant"]),
  content: nonEmpty,
});
export type Message = z.infer<typeof messageSchema>;

/** What the candidate is shown. Which fields are required depends on the format. */
export const inputSchema = z.strictObject({
  /** Optional system prompt for this case (the adapter's own system prompt comes first). */
  system: nonEmpty.optional(),
  /** A record, abstract, source text or documents the question is about. */
  context: nonEmpty.optional(),
  question: nonEmpty.optional(),
  /** choice: option key -> option text, keys are capital letters A–J. */
  options: z.record(z.string().regex(/^[A-J]$/, "option keys must be single letters A–J"), nonEmpty).optional(),
  /** dialogue: the conversation so far; the candidate writes the next assistant turn. */
  messages: z.array(messageSchema).min(1).optional(),
});
export type CaseInput = z.infer<typeof inputSchema>;

/** A signed rubric item: positive = the answer should contain it; negative = harmful/wrong content (met = present). */
export const rubricItemSchema = z.strictObject({
  id: nonEmpty.optional(),
  criterion: nonEmpty,
  points: z.number().int().refine((n) => n !== 0 && Math.abs(n) <= 20, "points must be a non-zero integer between -20 and 20"),
});
export type RubricItem = z.infer<typeof rubricItemSchema>;

export const provenanceSchema = z.strictObject({
  source: z.enum(["textbook", "guideline", "clinical-case", "exam", "synthetic", "public-dataset"]),
  guideline: z.strictObject({ name: nonEmpty, year: z.number().int().min(1950).max(2100) }).optional(),
  difficulty: z.enum(["common", "rare", "difficult"]),
  specialty: nonEmpty,
  language: z.enum(["zh", "en"]),
  synthetic: z.boolean(),
  /** For imported cases: the public dataset's name, the file it came from and its own id. */
  dataset: nonEmpty.optional(),
  origin: nonEmpty.optional(),
  originId: nonEmpty.optional(),
  note: nonEmpty.optional(),
});
export type Provenance = z.infer<typeof provenanceSchema>;

const keyPoints = z.array(nonEmpty).optional();
const rubric = z.array(rubricItemSchema).optional();
const rationale = nonEmpty.optional();
const choiceKey = z.string().regex(/^[A-J]$/, "must be one option letter A–J");

const common = {
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/, "must be 1–128 characters of letters, digits, _ . : -"),
  task: z.string().regex(TASK_ID, "must be a task id like DA01 (see `medeval tasks`)"),
  input: inputSchema,
  provenance: provenanceSchema,
  /** Confidential cases never appear in vendor-audience reports. */
  confidential: z.boolean().optional(),
  tags: z.array(nonEmpty).optional(),
};

export const choiceReferenceSchema = z.strictObject({
  answer: z.union([choiceKey, z.array(choiceKey).min(1)]),
  rationale, keyPoints, rubric,
});
export const openReferenceSchema = z.strictObject({
  answer: nonEmpty,
  rationale,
  keyPoints: z.array(nonEmpty).min(1, "open cases need at least one key point (得分点)"),
  rubric,
});
export const extractionReferenceSchema = z.strictObject({
  answer: z.record(z.string(), z.unknown()).refine((o) => Object.keys(o).length > 0, "gold JSON must have at least one field"),
  rationale, keyPoints, rubric,
});
export const numericReferenceSchema = z.strictObject({
  answer: z.number().finite(),
  unit: z.string(),
  tolerance: z.strictObject({ abs: z.number().nonnegative().optional(), rel: z.number().nonnegative().optional() })
    .refine((t) => t.abs !== undefined || t.rel !== undefined, "give tolerance.abs or tolerance.rel"),
  rationale, keyPoints, rubric,
});

/** Facts a simulated patient reveals only when asked (WF02-style history taking). */
export const patientScriptSchema = z.strictObject({
  persona: nonEmpty,
  facts: z.array(z.strictObject({ topic: nonEmpty, answer: nonEmpty })).min(1),
  maxTurns: z.number().int().min(1).max(30).optional(),
});

export const groupVariantSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, "variant ids are 1–32 letters, digits, _ or -"),
  /** The attribute's value(s) in this variant, in the same order in every variant. */
  value: z.union([nonEmpty, z.array(nonEmpty).min(1)]),
  input: inputSchema,
});
export type GroupVariant = z.infer<typeof groupVariantSchema>;

export const GROUP_ATTRIBUTES = ["sex", "age", "ethnicity", "region", "insurance", "paraphrase", "noise", "injection", "premise"] as const;

export const caseSchema = z.discriminatedUnion("format", [
  z.strictObject({ ...common, format: z.literal("choice"), reference: choiceReferenceSchema }),
  z.strictObject({ ...common, format: z.literal("open"), reference: openReferenceSchema }),
  z.strictObject({ ...common, format: z.literal("extraction"), reference: extractionReferenceSchema }),
  z.strictObject({ ...common, format: z.literal("numeric"), reference: numericReferenceSchema }),
  z.strictObject({ ...common, format: z.literal("dialogue"), reference: openReferenceSchema, patientScript: patientScriptSchema.optional() }),
  z.strictObject({
    ...common,
    format: z.literal("group"),
    /** Unused for groups (each variant has its own input); allowed for shared notes. */
    input: inputSchema.optional(),
    /** How each variant is answered and scored. */
    variantFormat: z.enum(["choice", "open"]),
    attribute: z.enum(GROUP_ATTRIBUTES),
    variants: z.array(groupVariantSchema).min(2, "a group needs at least 2 variants"),
    reference: z.union([choiceReferenceSchema, openReferenceSchema]),
  }),
]);

export type Case = z.infer<typeof caseSchema>;
export type CaseFormat = Case["format"];
export type ChoiceCase = Extract<Case, { format: "choice" }>;
export type GroupCase = Extract<Case, { format: "group" }>;
