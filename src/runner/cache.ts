// A response cache in the run database: a repeated identical request is answered from it, at no cost.
import type { DB } from "../store/db.js";
import { nowIso } from "../store/db.js";
import type { Adapter, AdapterReply, AdapterRequest } from "../adapters/types.js";
import { hashOf } from "../util/hash.js";

export type CacheRole = "candidate" | "judge" | "patient";

/**
 * The key: adapter settings that change the answer (describe() holds no secret), the exact messages, JSON mode,
 * and the caller's extra parts (case content hash, repeat index). Not the API key, not the run id.
 */
export function cacheKey(adapter: Adapter, req: AdapterRequest): string {
  const { apiKeyEnv: _ignored, ...settings } = adapter.describe();
  return hashOf({ settings, messages: req.messages, json: req.json ?? false, extra: req.cacheExtra ?? null });
}

export class ResponseCache {
  constructor(private readonly db: DB) {}

  get(key: string): AdapterReply | undefined {
    const row = this.db.prepare("SELECT reply_json FROM cache WHERE key = ?").get(key) as { reply_json: string } | undefined;
    if (!row) return undefined;
    this.db.prepare("UPDATE cache SET hits = hits + 1 WHERE key = ?").run(key);
    return JSON.parse(row.reply_json) as AdapterReply;
  }

  put(key: string, role: CacheRole, reply: AdapterReply): void {
    this.db.prepare("INSERT OR REPLACE INTO cache (key, role, reply_json, created_at) VALUES (?, ?, ?, ?)").run(key, role, JSON.stringify(reply), nowIso());
  }

  stats(): { role: string; entries: number; hits: number; bytes: number }[] {
    return this.db.prepare("SELECT role, COUNT(*) AS entries, COALESCE(SUM(hits),0) AS hits, COALESCE(SUM(LENGTH(reply_json)),0) AS bytes FROM cache GROUP BY role ORDER BY role").all() as {
      role: string; entries: number; hits: number; bytes: number;
    }[];
  }

  clear(role?: CacheRole): number {
    return (role ? this.db.prepare("DELETE FROM cache WHERE role = ?").run(role) : this.db.prepare("DELETE FROM cache").run()).changes;
  }
}

/** Wraps an adapter: answers from the cache when it can, stores fresh replies. */
export class CachedAdapter implements Adapter {
  readonly kind: string;
  readonly name: string;
  constructor(private readonly inner: Adapter, private readonly cache: ResponseCache, private readonly role: CacheRole) {
    this.kind = inner.kind;
    this.name = inner.name;
  }
  describe(): Record<string, unknown> {
    return this.inner.describe();
  }
  async complete(req: AdapterRequest): Promise<AdapterReply> {
    const key = cacheKey(this.inner, req);
    const hit = this.cache.get(key);
    if (hit) return { ...hit, cached: true, latencyMs: 0 };
    const reply = await this.inner.complete(req);
    this.cache.put(key, this.role, { ...reply, cached: false });
    return reply;
  }
}
