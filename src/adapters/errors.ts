// How the runner tells a transient failure (retry it) from a permanent one (record it), whatever the adapter.
import { APIConnectionError, APIError } from "openai";

/** Thrown by non-SDK adapters (http, exec) for an HTTP status, so retries treat every adapter alike. */
export class AdapterHttpError extends Error {
  constructor(readonly status: number, readonly headers: Record<string, string>, message: string) {
    super(message);
    this.name = "AdapterHttpError";
  }
}

/** An error that retrying cannot fix (a local command that failed, a reply that will never parse): record it at once. */
export function permanentError(message: string): Error {
  return Object.assign(new Error(message), { retryable: false });
}

export interface ErrorClass {
  retryable: boolean;
  /** Set for 429: the runner backs off its concurrency. */
  rateLimited: boolean;
  /** From Retry-After / retry-after-ms, when the server said how long to wait. */
  retryAfterMs: number | null;
  status: number | null;
}

const TRANSIENT_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EPIPE", "EAI_AGAIN", "UND_ERR_SOCKET", "ECONNABORTED"]);

export function parseRetryAfter(get: (name: string) => string | null | undefined): number | null {
  const ms = get("retry-after-ms");
  if (ms && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const v = get("retry-after");
  if (!v) return null;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Math.max(0, Number(v) * 1000);
  const when = Date.parse(v);
  return Number.isFinite(when) ? Math.max(0, when - Date.now()) : null;
}

function statusClass(status: number, retryAfterMs: number | null): ErrorClass {
  const retryable = status === 408 || status === 409 || status === 429 || status >= 500;
  return { retryable, rateLimited: status === 429, retryAfterMs, status };
}

export function classifyError(err: unknown): ErrorClass {
  // An adapter's explicit word wins over any guess from the message text below.
  if ((err as { retryable?: unknown } | null)?.retryable === false) return { retryable: false, rateLimited: false, retryAfterMs: null, status: null };
  if (err instanceof APIConnectionError) return { retryable: true, rateLimited: false, retryAfterMs: null, status: null };
  if (err instanceof APIError && typeof err.status === "number") {
    const h = err.headers as Headers | undefined;
    return statusClass(err.status, h ? parseRetryAfter((n) => h.get(n)) : null);
  }
  if (err instanceof AdapterHttpError) return statusClass(err.status, parseRetryAfter((n) => err.headers[n] ?? null));
  const code = (err as { code?: string; cause?: { code?: string } } | null)?.code ?? (err as { cause?: { code?: string } } | null)?.cause?.code;
  if (code && TRANSIENT_CODES.has(code)) return { retryable: true, rateLimited: false, retryAfterMs: null, status: null };
  if (err instanceof Error && (err.name === "TimeoutError" || /timed? ?out|socket hang up|terminated|premature close/i.test(err.message))) {
    return { retryable: true, rateLimited: false, retryAfterMs: null, status: null };
  }
  // A truncated or malformed body from the endpoint is transient too.
  if (err instanceof SyntaxError) return { retryable: true, rateLimited: false, retryAfterMs: null, status: null };
  return { retryable: false, rateLimited: false, retryAfterMs: null, status: null };
}
