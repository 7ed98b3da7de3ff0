// The case's own fields for adapters that are not chat APIs (http, exec): what a product's own API asks for.
import type { CaseInput, Message } from "../dataset/schema.js";
import type { AdapterRequest } from "./types.js";

export interface CaseFields {
  case_id: string;
  task: string;
  /** The format the unit is answered in (a group's variantFormat). */
  format: string;
  variant: string;
  language: string;
  /** The input shown for this unit (a group variant's own input). */
  input: CaseInput;
  /** input.question, or in a conversation the latest user turn. */
  question: string;
  context: string;
  options: Record<string, string> | null;
  system: string;
  /** The latest user message as a chat API would see it (answer-format instructions included). */
  prompt: string;
  messages: Message[];
}

export function caseFields(req: AdapterRequest): CaseFields {
  const c = req.case;
  const variant = req.variant ?? "";
  const input: CaseInput = c?.format === "group" ? (c.variants.find((v) => v.id === variant)?.input ?? c.input ?? {}) : (c?.input ?? {});
  const lastUser = [...req.messages].reverse().find((m) => m.role === "user")?.content ?? "";
  return {
    case_id: c?.id ?? "",
    task: c?.task ?? "",
    format: c?.format === "group" ? c.variantFormat : (c?.format ?? ""),
    variant,
    language: c?.provenance.language ?? "",
    input,
    question: input.question ?? (input.messages ? lastUser : ""),
    context: input.context ?? "",
    options: input.options ?? null,
    system: req.messages.filter((m) => m.role === "system").map((m) => m.content).join("\n\n"),
    prompt: lastUser,
    messages: req.messages,
  };
}
