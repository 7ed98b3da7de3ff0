// Products that are not chat APIs: a JSON request built from a template of the case's fields, and a JSON reply
// mapped to answer and reasoning by dotted paths. The same fetch as the openai adapter, so retries see the same errors.
import type { Adapter, AdapterReply, AdapterRequest } from "./types.js";
import type { HttpAdapterConfig } from "../config/schema.js";
import { AdapterHttpError } from "./errors.js";
import { caseFields, type CaseFields } from "./caseFields.js";
import { resolveHeaders } from "./openai.js";
import { splitReasoning } from "./reasoning.js";
import { UserError } from "../util/errors.js";
import { nodeFetch } from "./nodeFetch.js";

export const HTTP_PLACEHOLDERS = ["question", "context", "options", "messages", "system", "prompt", "case_id", "task", "format", "variant", "language"] as const;
type Placeholder = (typeof HTTP_PLACEHOLDERS)[number];

const ANY = /\{\{\s*(\w+)\s*\}\}/g;
const WHOLE = /^\{\{\s*(\w+)\s*\}\}$/;

function value(f: CaseFields, name: Placeholder): unknown {
  return f[name];
}

/** A placeholder inside longer text: options as "A. …" lines, messages as JSON text, absent fields as "". */
function asText(name: Placeholder, v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v;
  if (name === "options") return Object.entries(v as Record<string, string>).map(([k, t]) => `${k}. ${t}`).join("\n");
  return JSON.stringify(v);
}

/**
 * Fills a body template. A string that is exactly one placeholder becomes the value itself ("{{messages}}" → the
 * array, "{{options}}" → the object or null); placeholders inside longer strings are replaced by text.
 */
export function fillTemplate(template: unknown, f: CaseFields): unknown {
  if (typeof template === "string") {
    const whole = WHOLE.exec(template);
    if (whole) return value(f, whole[1] as Placeholder) ?? null;
    return template.replace(ANY, (_m, name: string) => asText(name as Placeholder, value(f, name as Placeholder)));
  }
  if (Array.isArray(template)) return template.map((t) => fillTemplate(t, f));
  if (template && typeof template === "object") {
    return Object.fromEntries(Object.entries(template as Record<string, unknown>).map(([k, v]) => [k, fillTemplate(v, f)]));
  }
  return template;
}

function placeholdersIn(template: unknown, out: Set<string> = new Set()): Set<string> {
  if (typeof template === "string") for (const m of template.matchAll(ANY)) out.add(m[1]!);
  else if (Array.isArray(template)) template.forEach((t) => placeholdersIn(t, out));
  else if (template && typeof template === "object") Object.values(template).forEach((t) => placeholdersIn(t, out));
  return out;
}

export type PathLookup = { found: true; value: unknown } | { found: false; reason: string };

/** Follows "data.answer" / "choices.0.text" through objects and arrays. */
export function lookupPath(root: unknown, path: string): PathLookup {
  let cur = root;
  const segs = path.split(".");
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i]!;
    const where = i === 0 ? "at the top level" : `under "${segs.slice(0, i).join(".")}"`;
    if (Array.isArray(cur)) {
      if (!/^\d+$/.test(seg) || Number(seg) >= cur.length) return { found: false, reason: `no element "${seg}" ${where} (an array of ${cur.length})` };
      cur = cur[Number(seg)];
    } else if (cur && typeof cur === "object") {
      if (!Object.prototype.hasOwnProperty.call(cur, seg)) {
        const keys = Object.keys(cur).slice(0, 12);
        return { found: false, reason: `no "${seg}" ${where} (keys there: ${keys.join(", ") || "none"})` };
      }
      cur = (cur as Record<string, unknown>)[seg];
    } else {
      return { found: false, reason: `${where} is ${cur === null ? "null" : typeof cur}, not an object or array` };
    }
  }
  return { found: true, value: cur };
}

/** A reply body that is not JSON. A SyntaxError, so the runner retries it like any truncated body, then records it. */
export class ReplyNotJsonError extends SyntaxError {
  constructor(message: string) {
    super(message);
    this.name = "ReplyNotJsonError";
  }
}

function excerpt(text: string, n = 200): string {
  const t = text.replace(/\s+/g, " ").trim();
  return t.length > n ? `${t.slice(0, n)}…` : t || "(empty)";
}

export class HttpAdapter implements Adapter {
  readonly kind = "http";
  readonly name: string;

  constructor(private readonly cfg: HttpAdapterConfig) {
    this.name = cfg.name ?? `http:${new URL(cfg.url).host}`;
    const unknown = [...placeholdersIn(cfg.body), ...placeholdersIn(cfg.url)].filter((p) => !(HTTP_PLACEHOLDERS as readonly string[]).includes(p));
    if (unknown.length) {
      throw new UserError(`http adapter: unknown placeholder(s) ${[...new Set(unknown)].map((p) => `{{${p}}}`).join(", ")} (expected one of ${HTTP_PLACEHOLDERS.map((p) => `{{${p}}}`).join(", ")})`);
    }
    if (cfg.method === "GET" && cfg.body !== undefined) throw new UserError("http adapter: method GET sends no body; put the placeholders in the url, or use POST");
    // Fail before the run when a referenced variable is missing; the values are read again at each call.
    resolveHeaders(cfg.headers);
  }

  describe(): Record<string, unknown> {
    const { kind, url, method, body, response, headers } = this.cfg;
    // Header names only: their values may be credentials.
    return { kind, name: this.name, url, method, headerNames: Object.keys(headers ?? {}), body: body ?? null, response };
  }

  async complete(req: AdapterRequest): Promise<AdapterReply> {
    const f = caseFields(req);
    const { method, timeoutMs } = this.cfg;
    const url = this.cfg.url.replace(ANY, (_m, name: string) => encodeURIComponent(asText(name as Placeholder, value(f, name as Placeholder))));
    const headers: Record<string, string> = { accept: "application/json", ...resolveHeaders(this.cfg.headers) };
    const hasBody = method !== "GET";
    if (hasBody && !Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) headers["content-type"] = "application/json";
    const signal = req.signal ? AbortSignal.any([req.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
    const what = `http ${method} ${this.cfg.url}`;
    const started = performance.now();
    let status: number;
    let text: string;
    let resHeaders: Record<string, string>;
    try {
      const res = await nodeFetch(url, { method, headers, body: hasBody ? JSON.stringify(fillTemplate(this.cfg.body ?? null, f)) : undefined, signal });
      status = res.status;
      resHeaders = Object.fromEntries(res.headers.entries());
      text = await res.text();
    } catch (err) {
      const e = err as Error & { code?: string; cause?: { code?: string; message?: string } };
      if (e.name === "TimeoutError") throw Object.assign(new Error(`${what}: no complete reply within ${timeoutMs / 1000} s (timed out)`), { name: "TimeoutError" });
      if (e.name === "AbortError") throw e;
      const cause = e.cause?.message ?? e.message;
      // Keep the code (ECONNRESET, ECONNREFUSED…): the runner retries connection failures.
      throw Object.assign(new Error(`${what}: request failed: ${cause}`), { code: e.cause?.code ?? e.code });
    }
    const latencyMs = Math.round(performance.now() - started);
    if (status < 200 || status > 299) throw new AdapterHttpError(status, resHeaders, `${what}: status ${status}: ${excerpt(text)}`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new ReplyNotJsonError(`${what}: the reply is not JSON (status ${status}, content-type ${resHeaders["content-type"] ?? "none"}): ${excerpt(text)}`);
    }
    const r = this.cfg.response;
    const get = (path: string, field: string, required: boolean): unknown => {
      const hit = lookupPath(body, path);
      if (hit.found && hit.value !== null && hit.value !== undefined) return hit.value;
      if (!required) return undefined;
      throw new Error(`${what}: the reply has no ${field} at "${path}": ${hit.found ? "it is null" : hit.reason}`);
    };
    const text_ = (v: unknown) => (v === undefined ? null : typeof v === "string" ? v : JSON.stringify(v));
    const answer = text_(get(r.answer, "answer", true))!;
    const reasoning = r.reasoning ? text_(get(r.reasoning, "reasoning", false)) : null;
    const split = splitReasoning(answer, reasoning);
    const num = (path: string | undefined) => {
      const v = path ? get(path, "token count", false) : undefined;
      return typeof v === "number" && Number.isFinite(v) ? v : null;
    };
    const promptTokens = num(r.promptTokens);
    const completionTokens = num(r.completionTokens);
    const model = r.model ? text_(get(r.model, "model", false)) : null;
    return {
      answer: split.answer,
      reasoning: split.reasoning,
      usage: promptTokens !== null || completionTokens !== null ? { promptTokens: promptTokens ?? 0, completionTokens: completionTokens ?? 0 } : null,
      latencyMs,
      model: model ?? this.name,
      raw: body,
    };
  }
}
