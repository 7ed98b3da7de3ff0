// The response cache is the stored answers and judgments themselves (see migration 002-cache): a row carries a hash
// of everything that changed it, and a later identical request copies the row instead of calling the model.
import type { DB } from "../store/db.js";
import type { Adapter, AdapterRequest } from "../adapters/types.js";
import { hashOf } from "../util/hash.js";

/**
 * The candidate key: adapter settings that change the answer (describe() holds no secret), the exact messages, JSON
 * mode, and the caller's extra parts (case content hash, variant, repeat index). Not the API key, not the run id.
 */
export function cacheKey(adapter: Adapter, req: AdapterRequest): string {
  const { apiKeyEnv: _ignored, ...settings } = adapter.describe();
  return hashOf({ settings, messages: req.messages, json: req.json ?? false, extra: req.cacheExtra ?? null });
}

export type CacheRole = "candidate" | "judge";
const TABLE: Record<CacheRole, string> = { candidate: "responses", judge: "judgments" };

export interface CacheStats {
  role: CacheRole;
  /** Stored rows that can answer a later identical request. */
  entries: number;
  /** Rows that were answered from the cache instead of a call. */
  hits: number;
}

export function cacheStats(db: DB): CacheStats[] {
  return (Object.keys(TABLE) as CacheRole[]).map((role) => {
    const row = db.prepare(`SELECT SUM(cache_key IS NOT NULL) AS entries, SUM(cached) AS hits FROM ${TABLE[role]}`).get() as { entries: number | null; hits: number | null };
    return { role, entries: row.entries ?? 0, hits: row.hits ?? 0 };
  });
}

/** Forgets cache keys (the stored answers stay: they belong to their runs). Returns how many were forgotten. */
export function clearCache(db: DB, role?: CacheRole): number {
  let n = 0;
  for (const r of role ? [role] : (Object.keys(TABLE) as CacheRole[])) {
    n += db.prepare(`UPDATE ${TABLE[r]} SET cache_key = NULL WHERE cache_key IS NOT NULL`).run().changes;
  }
  return n;
}
