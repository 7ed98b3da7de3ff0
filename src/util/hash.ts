import { hash } from "node:crypto";

/** One-shot crypto.hash (Node ≥ 20.12): no Hash object per call, whose native state waits for a GC to be freed. */
export function sha256(text: string | Buffer): string {
  return hash("sha256", text, "hex");
}

/** JSON with object keys sorted, so equal values hash equally whatever their key order. */
export function stableStringify(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v as object).sort()) sorted[k] = (v as Record<string, unknown>)[k];
      return sorted;
    }
    return v;
  });
}

export function hashOf(value: unknown): string {
  return sha256(stableStringify(value));
}
