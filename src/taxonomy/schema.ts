import { z } from "zod";
import { TASK_ID } from "../dataset/schema.js";

export const DIMENSION_IDS = ["CE", "EK", "GA", "QC", "WF", "DA"] as const;
export type DimensionId = (typeof DIMENSION_IDS)[number];
export const FORMATS = ["choice", "open", "extraction", "numeric", "dialogue", "group"] as const;

export const dimensionSchema = z.strictObject({
  id: z.enum(DIMENSION_IDS),
  zh: z.string().min(1),
  en: z.string().min(1),
  checks: z.string().min(1),
  weight: z.number().positive(),
});

export const taskSchema = z.strictObject({
  id: z.string().regex(TASK_ID),
  dimension: z.enum(DIMENSION_IDS),
  zh: z.string().min(1),
  en: z.string().min(1),
  description: z.string().min(1),
  format: z.enum(FORMATS),
  safetyCritical: z.boolean(),
});

export const profileSchema = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9-]*$/),
  zh: z.string().min(1),
  en: z.string().min(1),
  tasks: z.union([z.literal("all"), z.array(z.string())]),
  /** Cases of these specialties are included from any task. */
  specialties: z.array(z.string().min(1)).optional(),
});

export const taxonomyFileSchema = z.strictObject({
  version: z.string().min(1),
  alwaysInclude: z.array(z.enum(DIMENSION_IDS)),
  dimensions: z.array(dimensionSchema).length(6),
  tasks: z.array(taskSchema),
  profiles: z.array(profileSchema).min(1),
});

export type Dimension = z.infer<typeof dimensionSchema>;
export type Task = z.infer<typeof taskSchema>;
export type Profile = z.infer<typeof profileSchema>;
export type TaxonomyFile = z.infer<typeof taxonomyFileSchema>;
