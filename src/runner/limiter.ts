// Per-endpoint call control (src/runner/evaluate.ts decides which roles share an endpoint): adaptive concurrency, requests-per-minute and tokens-per-minute buckets,
// and retries with exponential backoff and jitter that honour Retry-After.
import pLimit, { type LimitFunction } from "p-limit";
import { classifyError } from "../adapters/errors.js";
import { errorMessage } from "../util/errors.js";
import type { Adapter, AdapterReply, AdapterRequest } from "../adapters/types.js";

export interface EndpointLimits {
  concurrency: number;
  rpm?: number;
  tpm?: number;
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY = { maxAttempts: 6, baseDelayMs: 500, maxDelayMs: 60_000 };

/** A token bucket refilled continuously; take() waits until enough is available. */
class Bucket {
  private level: number;
  private last = Date.now();
  constructor(private readonly perMinute: number) {
    this.level = perMinute;
  }
  private refill(): void {
    const now = Date.now();
    this.level = Math.min(this.perMinute, this.level + ((now - this.last) / 60_000) * this.perMinute);
    this.last = now;
  }
  async take(n: number): Promise<void> {
    const want = Math.min(n, this.perMinute);
    for (;;) {
      this.refill();
      if (this.level >= want) {
        this.level -= want;
        return;
      }
      await sleep(Math.ceil(((want - this.level) / this.perMinute) * 60_000));
    }
  }
  /** Settles an estimate against what the call really used (may go below zero: later calls wait). */
  adjust(delta: number): void {
    this.refill();
    this.level = Math.min(this.perMinute, this.level - delta);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export interface EndpointStats {
  calls: number;
  /** Tokens of the calls made (cached answers are not calls). */
  promptTokens: number;
  completionTokens: number;
  retries: number;
  rateLimited: number;
  /** The gate's current concurrency (adaptive back-off lowers it). */
  readonly concurrency: number;
}

/**
 * What limits the calls to one endpoint: concurrency (adaptive), requests and tokens per minute. Usually one per
 * Endpoint; a candidate and a judge on the same endpoint and key share one, as the provider counts them together.
 */
export class Gate {
  readonly limit: LimitFunction;
  readonly rpm: Bucket | null;
  readonly tpm: Bucket | null;
  private successesSinceBackoff = 0;
  /** The last outcomes (true = 429), for telling a sustained rate limit from a stray one. */
  private recent: boolean[] = [];

  constructor(readonly cfg: Pick<EndpointLimits, "concurrency" | "rpm" | "tpm">) {
    this.limit = pLimit(cfg.concurrency);
    this.rpm = cfg.rpm ? new Bucket(cfg.rpm) : null;
    this.tpm = cfg.tpm ? new Bucket(cfg.tpm) : null;
  }

  /**
   * AIMD on sustained rate limiting: halve when 3 of the last 10 calls were 429s (one stray 429 is only retried),
   * creep back up by one after a run of successes.
   */
  onRateLimited(): void {
    this.successesSinceBackoff = 0;
    this.recent.push(true);
    if (this.recent.length > 10) this.recent.shift();
    if (this.recent.filter(Boolean).length < 3) return;
    this.recent = [];
    const next = Math.max(1, Math.floor(this.limit.concurrency / 2));
    if (next !== this.limit.concurrency) this.limit.concurrency = next;
  }

  onSuccess(): void {
    this.recent.push(false);
    if (this.recent.length > 10) this.recent.shift();
    if (this.limit.concurrency >= this.cfg.concurrency) return;
    if (++this.successesSinceBackoff >= this.limit.concurrency * 2) {
      this.successesSinceBackoff = 0;
      this.limit.concurrency = this.limit.concurrency + 1;
    }
  }
}

/** One role's calls (candidate, judge, patient): retries and statistics, under a gate of its own or a shared one. */
export class Endpoint {
  readonly gate: Gate;
  readonly stats: EndpointStats;

  constructor(readonly name: string, private readonly cfg: EndpointLimits, private readonly random: () => number = Math.random, shared?: Gate) {
    this.gate = shared ?? new Gate(cfg);
    const gate = this.gate;
    // Concurrency is the gate's, read when asked: a gate shared with another role changes it too.
    this.stats = { calls: 0, promptTokens: 0, completionTokens: 0, retries: 0, rateLimited: 0, get concurrency() { return gate.limit.concurrency; } };
  }

  backoffMs(attempt: number, retryAfterMs: number | null): number {
    if (retryAfterMs !== null) return Math.min(this.cfg.maxDelayMs, retryAfterMs);
    const exp = Math.min(this.cfg.maxDelayMs, this.cfg.baseDelayMs * 2 ** attempt);
    return Math.round(exp / 2 + this.random() * (exp / 2)); // "equal jitter": spread retries, keep a floor
  }

  /**
   * Runs fn under the endpoint's limits, retrying transient failures. estimateTokens is charged to the TPM bucket
   * before the call; usedTokens(result) settles it afterwards. Throws the last error when attempts run out.
   */
  async call<T>(fn: () => Promise<T>, estimateTokens = 0, usedTokens?: (r: T) => number | null): Promise<{ value: T; attempts: number }> {
    let attempt = 0;
    for (;;) {
      const gate = this.gate;
      const outcome = await gate.limit(async () => {
        if (gate.rpm) await gate.rpm.take(1);
        if (gate.tpm && estimateTokens) await gate.tpm.take(estimateTokens);
        this.stats.calls++;
        try {
          const value = await fn();
          const used = usedTokens?.(value);
          if (gate.tpm && used !== null && used !== undefined) gate.tpm.adjust(used - estimateTokens);
          gate.onSuccess();
          return { ok: true as const, value };
        } catch (err) {
          return { ok: false as const, err };
        }
      });
      attempt++;
      if (outcome.ok) return { value: outcome.value, attempts: attempt };
      const cls = classifyError(outcome.err);
      if (cls.rateLimited) {
        this.stats.rateLimited++;
        this.gate.onRateLimited();
      }
      if (!cls.retryable || attempt >= this.cfg.maxAttempts) {
        const e = outcome.err instanceof Error ? outcome.err : new Error(errorMessage(outcome.err));
        throw Object.assign(e, { attempts: attempt });
      }
      this.stats.retries++;
      await sleep(this.backoffMs(attempt - 1, cls.retryAfterMs));
    }
  }
}

/** Rough prompt size before the call (about two characters a token, plus room for the reply). */
export function estimateTokens(messages: { content: string }[]): number {
  return Math.ceil(messages.reduce((a, m) => a + m.content.length, 0) / 2) + 256;
}

/** Routes an adapter's calls through an endpoint's limits and retries. */
export class LimitedAdapter implements Adapter {
  readonly kind: string;
  readonly name: string;
  constructor(private readonly inner: Adapter, readonly endpoint: Endpoint) {
    this.kind = inner.kind;
    this.name = inner.name;
  }
  describe(): Record<string, unknown> {
    return this.inner.describe();
  }
  async complete(req: AdapterRequest): Promise<AdapterReply> {
    const r = await this.endpoint.call(
      () => this.inner.complete(req),
      estimateTokens(req.messages),
      (reply) => (reply.usage ? reply.usage.promptTokens + reply.usage.completionTokens : null),
    );
    this.endpoint.stats.promptTokens += r.value.usage?.promptTokens ?? 0;
    this.endpoint.stats.completionTokens += r.value.usage?.completionTokens ?? 0;
    return { ...r.value, attempts: r.attempts };
  }
}
