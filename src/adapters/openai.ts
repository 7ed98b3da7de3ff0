// Any OpenAI-compatible chat endpoint (hosted APIs, vLLM, Ollama, most Chinese model APIs) via the openai SDK.
import OpenAI from "openai";
import type { Adapter, AdapterReply, AdapterRequest } from "./types.js";
import type { OpenAIAdapterConfig } from "../config/schema.js";
import { splitReasoning } from "./reasoning.js";
import { UserError } from "../util/errors.js";
import { nodeFetch } from "./nodeFetch.js";

/** Resolves ${ENV:NAME} references in header values at call time, so values never enter the config or database. */
export function resolveHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    out[k] = v.replace(/\$\{ENV:([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
      const val = process.env[name];
      if (val === undefined) throw new UserError(`header ${k} refers to environment variable ${name}, which is not set`);
      return val;
    });
  }
  return out;
}

interface ChatMessageWithReasoning {
  content?: string | null;
  reasoning_content?: string | null;
  reasoning?: string | null;
}

export class OpenAIAdapter implements Adapter {
  readonly kind = "openai";
  readonly name: string;
  private readonly client: OpenAI;

  constructor(private readonly cfg: OpenAIAdapterConfig) {
    this.name = `openai:${cfg.model}`;
    const apiKey = process.env[cfg.apiKeyEnv];
    const local = cfg.baseURL ? /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:|\/|$)/.test(cfg.baseURL) : false;
    if (!apiKey && !local) {
      throw new UserError(`the API key environment variable ${cfg.apiKeyEnv} is not set (set it, or pass --api-key-env NAME)`);
    }
    this.client = new OpenAI({
      apiKey: apiKey ?? "no-key",
      baseURL: cfg.baseURL,
      timeout: cfg.timeoutMs,
      maxRetries: cfg.maxRetries,
      defaultHeaders: resolveHeaders(cfg.headers),
      fetch: nodeFetch,
    });
  }

  describe(): Record<string, unknown> {
    const { kind, model, baseURL, apiKeyEnv, temperature, maxTokens, seed, systemPrompt, headers } = this.cfg;
    // Header names only: their values may be credentials.
    return { kind, model, baseURL: baseURL ?? null, apiKeyEnv, temperature: temperature ?? null, maxTokens: maxTokens ?? null, seed: seed ?? null, systemPrompt: systemPrompt ?? null, headerNames: Object.keys(headers ?? {}) };
  }

  async complete(req: AdapterRequest): Promise<AdapterReply> {
    const messages = this.cfg.systemPrompt ? [{ role: "system" as const, content: this.cfg.systemPrompt }, ...req.messages] : req.messages;
    const started = performance.now();
    const reply = await this.client.chat.completions.create(
      {
        model: this.cfg.model,
        messages,
        ...(this.cfg.temperature !== undefined ? { temperature: this.cfg.temperature } : {}),
        ...(this.cfg.maxTokens !== undefined ? { max_tokens: this.cfg.maxTokens } : {}),
        ...(this.cfg.seed !== undefined ? { seed: this.cfg.seed } : {}),
        ...(req.json ? { response_format: { type: "json_object" as const } } : {}),
      },
      { signal: req.signal },
    );
    const latencyMs = Math.round(performance.now() - started);
    const msg = reply.choices?.[0]?.message as ChatMessageWithReasoning | undefined;
    if (!msg) throw new Error(`the endpoint returned no choices (model ${this.cfg.model})`);
    const split = splitReasoning(msg.content, msg.reasoning_content ?? msg.reasoning);
    return {
      answer: split.answer,
      reasoning: split.reasoning,
      usage: reply.usage ? { promptTokens: reply.usage.prompt_tokens, completionTokens: reply.usage.completion_tokens } : null,
      latencyMs,
      model: reply.model ?? null,
      raw: reply,
    };
  }
}
