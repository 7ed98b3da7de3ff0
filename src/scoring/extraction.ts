// Field-level precision/recall/F1 between a gold JSON object and the candidate's JSON answer.
import { toHalfWidth } from "./normalize.js";

/** Pulls a JSON object out of a reply that may wrap it in prose or a ``` fence. */
export function parseJsonObject(text: string): Record<string, unknown> | null {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/i.exec(text);
  const candidates = [fenced?.[1], text];
  for (const c of candidates) {
    if (!c) continue;
    const start = c.indexOf("{");
    const end = c.lastIndexOf("}");
    if (start < 0 || end <= start) continue;
    try {
      const v = JSON.parse(c.slice(start, end + 1)) as unknown;
      if (v && typeof v === "object" && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {
      /* try the next candidate */
    }
  }
  return null;
}

function norm(v: unknown): string {
  return toHalfWidth(typeof v === "string" ? v : JSON.stringify(v)).toLowerCase().replace(/[\s"'“”‘’。．.,，;；]/g, "");
}

/** Flattens to "path=value" facts; list items become separate facts, so lists compare as sets. */
export function flattenFacts(obj: unknown, prefix = ""): string[] {
  if (Array.isArray(obj)) return obj.flatMap((v) => flattenFacts(v, `${prefix}[]`));
  if (obj && typeof obj === "object") {
    return Object.entries(obj as Record<string, unknown>).flatMap(([k, v]) => flattenFacts(v, prefix ? `${prefix}.${norm(k)}` : norm(k)));
  }
  if (obj === null || obj === undefined || obj === "") return [];
  return [`${prefix}=${norm(obj)}`];
}

export interface ExtractionScore {
  parsed: boolean;
  precision: number;
  recall: number;
  f1: number;
  missing: string[];
  extra: string[];
}

export function scoreExtraction(answer: string, gold: Record<string, unknown>): ExtractionScore {
  const pred = parseJsonObject(answer);
  const goldFacts = new Set(flattenFacts(gold));
  if (!pred) return { parsed: false, precision: 0, recall: 0, f1: 0, missing: [...goldFacts], extra: [] };
  const predFacts = new Set(flattenFacts(pred));
  const hit = [...predFacts].filter((f) => goldFacts.has(f)).length;
  const precision = predFacts.size ? hit / predFacts.size : 0;
  const recall = goldFacts.size ? hit / goldFacts.size : 0;
  const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
  return {
    parsed: true, precision, recall, f1,
    missing: [...goldFacts].filter((f) => !predFacts.has(f)),
    extra: [...predFacts].filter((f) => !goldFacts.has(f)),
  };
}
