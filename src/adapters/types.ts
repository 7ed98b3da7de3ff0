import type { Message, Case } from "../dataset/schema.js";

export interface Usage {
  promptTokens: number;
  completionTokens: number;
}

export interface AdapterRequest {
  messages: Message[];
  /** The case being answered: read by adapters that are not chat APIs (mock, http, exec, replay). */
  case?: Case;
  /** The group variant being answered ("" or absent otherwise): http, exec and replay read it with `case`. */
  variant?: string;
  /** Ask for a JSON object reply where the endpoint supports it (the judge does). */
  json?: boolean;
  signal?: AbortSignal;
  /** Parts of the response-cache key beyond the messages: case content hash, repeat index. */
  cacheExtra?: Record<string, unknown>;
}

export interface AdapterReply {
  /** The final answer, with any reasoning trace removed. */
  answer: string;
  /** The reasoning trace: reasoning_content, <think> blocks, or null when the model exposes none. */
  reasoning: string | null;
  usage: Usage | null;
  latencyMs: number;
  model: string | null;
  /** The endpoint's reply as received, for audit. */
  raw: unknown;
  /** True when the reply came from the response cache (no call was made, nothing was paid). */
  cached?: boolean;
  /** Calls it took, retries included (set by the runner's limiter). */
  attempts?: number;
}

export interface Adapter {
  readonly kind: string;
  /** A short display name such as "openai:qwen-max". */
  readonly name: string;
  /** Everything that changes the answer, and no secret: stored with the run and used in cache keys. */
  describe(): Record<string, unknown>;
  complete(req: AdapterRequest): Promise<AdapterReply>;
}
