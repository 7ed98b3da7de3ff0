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

/** A dotted path into a JSON reply: "data.answer", "choices.0.text". */
const jsonPath = z.string().regex(/^[^.\s]+(\.[^.\s]+)*$/, "must be a dotted JSON path such as data.answer or choices.0.text");

/** Products that are not chat APIs: a JSON request built from a template, a JSON reply mapped to answer and reasoning. */
export const httpAdapterSchema = z.strictObject({
  kind: z.literal("http"),
  /** Display name (default http:HOST). */
  name: z.string().min(1).optional(),
  /** May hold {{placeholders}} (URL-encoded), e.g. for a GET query. Put secrets in headers, not here. */
  url: z.url(),
  method: z.enum(["POST", "PUT", "PATCH", "GET"]).default("POST"),
  headers: z.record(z.string(), headerValue).optional(),
  /** Any JSON value; strings may hold {{question}}, {{context}}, {{options}}, {{messages}}, {{system}}, {{prompt}}, {{case_id}}, {{task}}, {{format}}, {{variant}}, {{language}}. */
  body: z.unknown().optional(),
  response: z.strictObject({
    answer: jsonPath,
    reasoning: jsonPath.optional(),
    model: jsonPath.optional(),
    promptTokens: jsonPath.optional(),
    completionTokens: jsonPath.optional(),
  }),
  timeoutMs: z.number().int().positive().default(120_000),
});

/** A local command per case: case JSON on stdin, {answer, reasoning?} JSON on stdout. */
export const execAdapterSchema = z.strictObject({
  kind: z.literal("exec"),
  name: z.string().min(1).optional(),
  command: z.string().min(1),
  args: z.array(z.string()).default([]),
  /** Run through /bin/sh -c (command is then the whole command line). Off by default. */
  shell: z.boolean().default(false),
  cwd: z.string().min(1).optional(),
  /** Extra environment variables; values may be ${ENV:NAME}. */
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name"), headerValue).optional(),
  timeoutMs: z.number().int().positive().default(120_000),
});

/** A submitted answers file (JSONL or CSV): scored without calling anything. */
export const replayAdapterSchema = z.strictObject({
  kind: z.literal("replay"),
  file: z.string().min(1),
  /** Model name recorded when a row gives none. */
  model: z.string().min(1).optional(),
});

export const adapterConfigSchema = z.discriminatedUnion("kind", [openaiAdapterSchema, mockAdapterSchema, httpAdapterSchema, execAdapterSchema, replayAdapterSchema]);
export type AdapterConfig = z.infer<typeof adapterConfigSchema>;
export type OpenAIAdapterConfig = z.infer<typeof openaiAdapterSchema>;
export type MockAdapterConfig = z.infer<typeof mockAdapterSchema>;
export type HttpAdapterConfig = z.infer<typeof httpAdapterSchema>;
export type ExecAdapterConfig = z.infer<typeof execAdapterSchema>;
export type ReplayAdapterConfig = z.infer<typeof replayAdapterSchema>;

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
  /** The simulated patient for multi-turn history-taking cases (those with a patientScript). */
  patient: adapterConfigSchema.optional(),
  /** Candidate replies per simulated dialogue when the case sets no maxTurns. */
  maxTurns: z.number().int().min(1).max(30).optional(),
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
