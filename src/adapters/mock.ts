// Deterministic, offline candidate for tests and dry runs: answers from configuration or the case's reference.
import type { Adapter, AdapterReply, AdapterRequest } from "./types.js";
import type { MockAdapterConfig } from "../config/schema.js";
import type { Case } from "../dataset/schema.js";

export function referenceAnswer(c: Case): string {
  const ref = c.reference;
  switch (c.format) {
    case "choice":
      return `答案：${Array.isArray(c.reference.answer) ? c.reference.answer.join("") : c.reference.answer}`;
    case "numeric":
      return `答案：${c.reference.answer} ${c.reference.unit}`;
    case "extraction":
      return JSON.stringify(c.reference.answer);
    case "group":
      return Array.isArray(ref.answer) ? `答案：${ref.answer.join("")}` : c.variantFormat === "choice" ? `答案：${String(ref.answer)}` : String(ref.answer);
    default:
      return String(ref.answer);
  }
}

export class MockAdapter implements Adapter {
  readonly kind = "mock";
  readonly name: string;
  constructor(private readonly cfg: MockAdapterConfig) {
    this.name = `mock:${cfg.strategy}`;
  }

  describe(): Record<string, unknown> {
    return { ...this.cfg };
  }

  async complete(req: AdapterRequest): Promise<AdapterReply> {
    const c = req.case;
    let answer: string;
    if (c && this.cfg.answers?.[c.id] !== undefined) answer = this.cfg.answers[c.id]!;
    else if (this.cfg.strategy === "fixed") answer = this.cfg.text ?? "";
    else if (this.cfg.strategy === "first-option") answer = "答案：A";
    else answer = c ? referenceAnswer(c) : "";
    return { answer, reasoning: this.cfg.reasoning ?? null, usage: { promptTokens: 0, completionTokens: 0 }, latencyMs: 0, model: this.name, raw: { answer } };
  }
}
