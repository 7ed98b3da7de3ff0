import { afterEach, describe, expect, it } from "vitest";
import path from "node:path";
import Database from "better-sqlite3";
import { HttpAdapter, fillTemplate, lookupPath } from "../src/adapters/http.js";
import { caseFields } from "../src/adapters/caseFields.js";
import { classifyError, AdapterHttpError } from "../src/adapters/errors.js";
import { httpAdapterSchema, type HttpAdapterConfig } from "../src/config/schema.js";
import { resolveAdapter } from "../src/config/resolve.js";
import { caseSchema, type Case } from "../src/dataset/schema.js";
import { unitMessages, unitsOf } from "../src/runner/prompt.js";
import { cacheKey } from "../src/runner/cache.js";
import { evaluate } from "../src/runner/evaluate.js";
import { startFakeServer, type FakeServer } from "../src/demo/fakeServer.js";
import { OpenAIAdapter } from "../src/adapters/openai.js";
import { UserError } from "../src/util/errors.js";
import { choiceCases, groupCase, judgeOk, startJsonServer, type JsonReply, type JsonServer, type SeenRequest } from "./adapterFixture.js";
import { tempDir, writeJsonl } from "./helpers.js";

let closers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(closers.map((c) => c.close()));
  closers = [];
  delete process.env.MEDEVAL_TEST_TOKEN;
});

async function serve(handler: (req: SeenRequest, i: number) => JsonReply): Promise<JsonServer> {
  const s = await startJsonServer(handler);
  closers.push(s);
  return s;
}

function config(url: string, extra: Partial<Record<string, unknown>> = {}): HttpAdapterConfig {
  return httpAdapterSchema.parse({
    kind: "http", url: `${url}/api/ask`,
    headers: { Authorization: "Bearer ${ENV:MEDEVAL_TEST_TOKEN}", "X-Client": "medeval" },
    body: { query: "{{question}}", background: "{{context}}", choices: "{{options}}", history: "{{messages}}", meta: { id: "{{case_id}}", task: "{{task}}" }, note: "题号 {{case_id}}：{{options}}" },
    response: { answer: "data.answer", reasoning: "data.trace", promptTokens: "usage.in", completionTokens: "usage.out", model: "engine" },
    timeoutMs: 5_000,
    ...extra,
  });
}

const theCase = caseSchema.parse(choiceCases(1, "H")[0]) as Case;
const request = (c: Case = theCase, variant = "") => {
  const u = unitsOf(c, 1).find((x) => x.variant === variant)!;
  return { messages: unitMessages(u), case: c, variant };
};

describe("http adapter: request", () => {
  it("fills the body template with the case's fields, resolves header references at call time, maps the reply", async () => {
    process.env.MEDEVAL_TEST_TOKEN = "s3cret-value";
    const s = await serve(() => ({ body: { data: { answer: "答案：B", trace: "心率正常范围60–100" }, usage: { in: 120, out: 30 }, engine: "prod-v2" } }));
    const a = new HttpAdapter(config(s.url));
    const req = request();
    const r = await a.complete(req);

    expect(s.requests).toHaveLength(1);
    const seen = s.requests[0]!;
    expect(seen.method).toBe("POST");
    expect(seen.url).toBe("/api/ask");
    expect(seen.headers.authorization).toBe("Bearer s3cret-value");
    expect(seen.headers["x-client"]).toBe("medeval");
    expect(seen.headers["content-type"]).toBe("application/json");
    const input = (theCase as Extract<Case, { format: "choice" }>).input;
    expect(seen.body).toEqual({
      query: input.question,
      background: "", // the case has no context
      choices: input.options, // a whole-string placeholder keeps its structure
      history: req.messages,
      meta: { id: "H-1", task: "EK01" },
      note: `题号 H-1：${Object.entries(input.options!).map(([k, v]) => `${k}. ${v}`).join("\n")}`,
    });

    expect(r.answer).toBe("答案：B");
    expect(r.reasoning).toBe("心率正常范围60–100");
    expect(r.usage).toEqual({ promptTokens: 120, completionTokens: 30 });
    expect(r.model).toBe("prod-v2");
  });

  it("describe() names the headers but never holds their values, and it changes the cache key when the template changes", () => {
    process.env.MEDEVAL_TEST_TOKEN = "s3cret-value";
    const a = new HttpAdapter(config("http://127.0.0.1:9"));
    const d = JSON.stringify(a.describe());
    expect(d).not.toContain("s3cret-value");
    expect(d).not.toContain("Bearer");
    expect(a.describe().headerNames).toEqual(["Authorization", "X-Client"]);
    const b = new HttpAdapter(config("http://127.0.0.1:9", { body: { q: "{{prompt}}" } }));
    expect(cacheKey(a, request())).not.toBe(cacheKey(b, request()));
    // A different secret value does not change the key.
    process.env.MEDEVAL_TEST_TOKEN = "another";
    expect(cacheKey(new HttpAdapter(config("http://127.0.0.1:9")), request())).toBe(cacheKey(a, request()));
  });

  it("sends a group variant's own input, and supports GET with URL-encoded placeholders", async () => {
    process.env.MEDEVAL_TEST_TOKEN = "t";
    const s = await serve(() => ({ body: { choices: [{ text: "答案：A" }] } }));
    const g = caseSchema.parse(groupCase()) as Case;
    const a = new HttpAdapter(httpAdapterSchema.parse({ kind: "http", url: `${s.url}/q?text={{question}}&v={{variant}}`, method: "GET", response: { answer: "choices.0.text" } }));
    const r = await a.complete(request(g, "f"));
    expect(r.answer).toBe("答案：A");
    const seen = s.requests[0]!;
    expect(seen.method).toBe("GET");
    const q = new URL(seen.url, "http://x").searchParams;
    expect(q.get("text")).toMatch(/^女，55岁/);
    expect(q.get("v")).toBe("f");
    expect(seen.text).toBe("");
  });

  it("takes <think> blocks out of a mapped answer when no reasoning path is given", async () => {
    const s = await serve(() => ({ body: { out: "<think>推理</think>答案：B" } }));
    const r = await new HttpAdapter(httpAdapterSchema.parse({ kind: "http", url: s.url, body: { q: "{{prompt}}" }, response: { answer: "out" } })).complete(request());
    expect(r).toMatchObject({ answer: "答案：B", reasoning: "推理" });
  });
});

describe("http adapter: failure shapes", () => {
  const plain = (url: string) => new HttpAdapter(httpAdapterSchema.parse({ kind: "http", url, body: { q: "{{question}}" }, response: { answer: "data.answer" }, timeoutMs: 300 }));

  it("non-2xx is an AdapterHttpError carrying the response headers, so 429 Retry-After is honoured", async () => {
    const s = await serve((_r, i) => (i === 0 ? { status: 429, headers: { "retry-after": "3" }, body: { error: "slow down" } } : { status: 503, body: { error: "down" } }));
    const a = plain(s.url);
    const e1 = await a.complete(request()).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(AdapterHttpError);
    expect((e1 as AdapterHttpError).status).toBe(429);
    expect(classifyError(e1)).toEqual({ retryable: true, rateLimited: true, retryAfterMs: 3000, status: 429 });
    expect((e1 as Error).message).toMatch(/status 429.*slow down/);
    const e2 = await a.complete(request()).catch((e: unknown) => e);
    expect(classifyError(e2)).toMatchObject({ retryable: true, rateLimited: false, status: 503 });
  });

  it("a 400 is not retried", async () => {
    const s = await serve(() => ({ status: 400, body: { error: "bad field" } }));
    const e = await plain(s.url).complete(request()).catch((x: unknown) => x);
    expect(classifyError(e).retryable).toBe(false);
    expect((e as Error).message).toContain("bad field");
  });

  it("a body that is not JSON is a clear error", async () => {
    const s = await serve(() => ({ raw: "<html>gateway error</html>" }));
    const e = (await plain(s.url).complete(request()).catch((x: unknown) => x)) as Error;
    expect(e.message).toMatch(/the reply is not JSON .*content-type text\/html.*<html>gateway error/);
  });

  it("a reply without the mapped path names the path and what is there, and is not retried", async () => {
    const s = await serve(() => ({ body: { data: { text: "答案：B", score: 1 } } }));
    const e = (await plain(s.url).complete(request()).catch((x: unknown) => x)) as Error;
    expect(e.message).toContain('no answer at "data.answer": no "answer" under "data" (keys there: text, score)');
    expect(classifyError(e).retryable).toBe(false);
    const s2 = await serve(() => ({ body: { data: { answer: null } } }));
    expect(((await plain(s2.url).complete(request()).catch((x: unknown) => x)) as Error).message).toContain('"data.answer": it is null');
  });

  it("a hanging server times out with a retryable TimeoutError; a closed port is a retryable connection error", async () => {
    const s = await serve(() => ({ hang: true }));
    const e = (await plain(s.url).complete(request()).catch((x: unknown) => x)) as Error;
    expect(e.name).toBe("TimeoutError");
    expect(e.message).toMatch(/no complete reply within 0.3 s/);
    expect(classifyError(e).retryable).toBe(true);
    const port = Number(new URL(s.url).port);
    await s.close();
    closers = closers.filter((c) => c !== s);
    const e2 = (await plain(`http://127.0.0.1:${port}`).complete(request()).catch((x: unknown) => x)) as Error;
    expect(e2.message).toMatch(/request failed/);
    expect(classifyError(e2).retryable).toBe(true);
  });

  it("bad configuration fails before any call: unknown placeholder, missing environment variable, GET with a body", () => {
    expect(() => new HttpAdapter(httpAdapterSchema.parse({ kind: "http", url: "http://127.0.0.1:9", body: { q: "{{questoin}}" }, response: { answer: "a" } })))
      .toThrow(/unknown placeholder\(s\) \{\{questoin\}\}/);
    expect(() => new HttpAdapter(config("http://127.0.0.1:9"))).toThrow(UserError);
    expect(() => new HttpAdapter(config("http://127.0.0.1:9"))).toThrow(/MEDEVAL_TEST_TOKEN, which is not set/);
    expect(() => new HttpAdapter(httpAdapterSchema.parse({ kind: "http", url: "http://127.0.0.1:9", method: "GET", body: {}, response: { answer: "a" } }))).toThrow(/GET sends no body/);
    expect(httpAdapterSchema.safeParse({ kind: "http", url: "http://x", response: { answer: "data..answer" } }).success).toBe(false);
  });

  it("--candidate http takes the block from the config file, and refuses without one", () => {
    const block = { kind: "http" as const, url: "http://127.0.0.1:9/x", method: "POST" as const, response: { answer: "a" }, timeoutMs: 1000 };
    expect(resolveAdapter("candidate", "http", block, { timeoutMs: 2500 })).toMatchObject({ kind: "http", url: "http://127.0.0.1:9/x", timeoutMs: 2500 });
    expect(() => resolveAdapter("candidate", "http", undefined, {})).toThrow(/configured in the config file/);
  });
});

describe("template and path helpers", () => {
  it("lookupPath follows objects and array indexes and explains misses", () => {
    const v = { choices: [{ text: "x" }], data: { n: 0 } };
    expect(lookupPath(v, "choices.0.text")).toEqual({ found: true, value: "x" });
    expect(lookupPath(v, "data.n")).toEqual({ found: true, value: 0 });
    expect(lookupPath(v, "choices.3.text")).toMatchObject({ found: false, reason: expect.stringContaining("an array of 1") });
    expect(lookupPath(v, "data.n.x")).toMatchObject({ found: false, reason: expect.stringContaining("is number") });
  });

  it("a whole-string placeholder for an absent field becomes null; inside text it becomes empty", () => {
    const f = caseFields(request());
    expect(fillTemplate({ a: "{{context}}", b: "ctx:[{{context}}]", c: ["{{case_id}}", 3, true] }, f)).toEqual({ a: "", b: "ctx:[]", c: ["H-1", 3, true] });
    expect(fillTemplate("{{options}}", { ...f, options: null })).toBeNull();
  });
});

describe("http adapter through the runner", () => {
  it("answers every case, retries a 429 honouring Retry-After, records a case whose reply lacks the path, and re-runs from the cache", async () => {
    const dir = tempDir();
    const file = writeJsonl(dir, "cases.jsonl", choiceCases(4, "HR"));
    // HR-2's first call is rate limited; HR-3 always answers without the mapped field.
    const seenHr2: number[] = [];
    const product = await serve((req, i) => {
      const id = (req.body as { id: string }).id;
      if (id === "HR-2" && !seenHr2.length) {
        seenHr2.push(i);
        return { status: 429, headers: { "retry-after": "0" }, body: { error: "rate" } };
      }
      if (id === "HR-3") return { body: { result: "答案：B" } };
      return { body: { data: { answer: id === "HR-4" ? "答案：A" : "答案：B" } } };
    });
    const judge: FakeServer = await startFakeServer(judgeOk);
    closers.push(judge);
    const candidate = new HttpAdapter(httpAdapterSchema.parse({ kind: "http", url: `${product.url}/v1/answer`, body: { id: "{{case_id}}", q: "{{prompt}}" }, response: { answer: "data.answer" } }));
    const judgeAdapter = new OpenAIAdapter({ kind: "openai", model: "j", baseURL: judge.url, apiKeyEnv: "NONE_SET", timeoutMs: 10_000, maxRetries: 0 });
    const db = path.join(dir, "h.sqlite");
    const opts = { datasets: [file], filters: { profile: "general-llm" }, candidate, judge: judgeAdapter, dbPath: db, reportDir: dir, concurrency: 2, quiet: true, candidateLimits: { maxAttempts: 3, retryBaseMs: 1 } };
    const first = await evaluate(opts);

    const conn = new Database(db, { readonly: true });
    const rows = conn.prepare("SELECT case_id, status, answer, error, attempts FROM responses WHERE run_id = ? ORDER BY case_id").all(first.runId) as { case_id: string; status: string; answer: string | null; error: string | null; attempts: number }[];
    const scores = conn.prepare("SELECT case_id, objective FROM scores WHERE run_id = ? ORDER BY case_id").all(first.runId) as { case_id: string; objective: number | null }[];
    conn.close();
    expect(rows.map((r) => [r.case_id, r.status])).toEqual([["HR-1", "ok"], ["HR-2", "ok"], ["HR-3", "error"], ["HR-4", "ok"]]);
    expect(rows.find((r) => r.case_id === "HR-2")!.attempts).toBe(2);
    expect(rows.find((r) => r.case_id === "HR-3")!.error).toMatch(/no answer at "data.answer": no "data" at the top level \(keys there: result\)/);
    expect(rows.find((r) => r.case_id === "HR-3")!.attempts).toBe(1);
    expect(first.summary.candidateErrors).toBe(1);
    expect(scores.find((s) => s.case_id === "HR-1")!.objective).toBe(1);
    expect(scores.find((s) => s.case_id === "HR-4")!.objective).toBe(0);
    // 4 cases + one 429 retry.
    expect(product.requests).toHaveLength(5);

    const second = await evaluate(opts);
    // Only the errored case is asked again: every answered one comes from the cache.
    expect(product.requests).toHaveLength(6);
    expect(second.exec.cacheHits).toBe(3);
  });
});
