// Adapter and run configuration. Secrets are never values here: only the NAME of the environment variable.
import { z } from "zod";

const headerValue = z.string().describe("a literal, or ${ENV:NAME} to read an environment variable at call time");

export const openaiAdapterSchema = z.strictObject({
  kind: z.literal("openai"),
  model: z.string().min(1),
  baseURL: z.url().optional(),
  /** Name of the environment variable that holds the API key (default OPENAI_API_KEY). */
  apiKeyEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name").default("OPENAI_API_KEY"),
  temperature: z.number().min(0).max(2).optional(),
  maxTokens: z.number().int().positive().optional(),
  seed: z.number().int().optional(),
  systemPrompt: z.string().min(1).optional(),
  headers: z.record(z.string(), headerValue).optional(),
  timeoutMs: z.number().int().positive().default(120_000),
  /** The SDK's own retries; the runner retries with backoff itself, so 0 by default. */
  maxRetries: z.number().int().min(0).max(10).default(0),
});

export const mockAdapterSchema = z.strictObject({
  kind: z.literal("mock"),
  /** reference: answer with the case's reference; first-option: always "A"; fixed: always `text`. */
  strategy: z.enum(["reference", "first-option", "fixed"]).default("reference"),
  text: z.string().optional(),
  /** Per case id, a fixed answer (overrides the strategy). */
  answers: z.record(z.string(), z.string()).optional(),
  reasoning: z.string().optional(),
});

export const adapterConfigSchema = z.discriminatedUnion("kind", [openaiAdapterSchema, mockAdapterSchema]);
export type AdapterConfig = z.infer<typeof adapterConfigSchema>;
export type OpenAIAdapterConfig = z.infer<typeof openaiAdapterSchema>;
export type MockAdapterConfig = z.infer<typeof mockAdapterSchema>;

/** Per-endpoint limits; the judge's are separate from the candidate's. */
export const limitsSchema = z.strictObject({
  concurrency: z.number().int().min(1).max(1024).optional(),
  rpm: z.number().positive().optional(),
  tpm: z.number().positive().optional(),
  maxAttempts: z.number().int().min(1).max(20).optional(),
  /** First backoff in milliseconds (doubles per attempt, with jitter; Retry-After wins). */
  retryBaseMs: z.number().int().min(1).max(60_000).optional(),
});
export type LimitsConfig = z.infer<typeof limitsSchema>;

/** Prices per million tokens, by model name as configured. */
export const priceSchema = z.strictObject({ input: z.number().min(0), output: z.number().min(0), currency: z.string().min(1).default("CNY") });
export type Price = z.infer<typeof priceSchema>;

export const configFileSchema = z.strictObject({
  candidate: adapterConfigSchema.optional(),
  judge: adapterConfigSchema.optional(),
  profile: z.string().optional(),
  datasets: z.array(z.string()).optional(),
  concurrency: z.number().int().min(1).max(1024).optional(),
  db: z.string().optional(),
  candidateLimits: limitsSchema.optional(),
  judgeLimits: limitsSchema.optional(),
  prices: z.record(z.string(), priceSchema).optional(),
  repeats: z.number().int().min(1).max(100).optional(),
});
export type ConfigFile = z.infer<typeof configFileSchema>;
