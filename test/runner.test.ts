import { afterEach, describe, expect, it } from "vitest";
import path from "node:path";
import Database from "better-sqlite3";
import { startFakeServer, type FakeServer, type ChatRequestBody, type FakeReply } from "../src/demo/fakeServer.js";
import { OpenAIAdapter } from "../src/adapters/openai.js";
import { evaluate } from "../src/runner/evaluate.js";
import { Endpoint, DEFAULT_RETRY } from "../src/runner/limiter.js";
import { classifyError, parseRetryAfter, AdapterHttpError } from "../src/adapters/errors.js";
import { tempDir, writeJsonl, validOpenCase, cli } from "./helpers.js";

let servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

/** N synthetic choice cases: the fake candidate answers from the question, so replies are deterministic. */
function manyCases(n: number): unknown[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `R-${String(i).padStart(4, "0")}`, task: "EK01", format: "choice",
    input: { question: `第${i}题：正常成人静息心率的范围是？`, options: { A: "40–50次/分", B: "60–100次/分", C: "100–120次/分" } },
    reference: { answer: "B" },
    provenance: { source: "synthetic", difficulty: "common", specialty: "全科", language: "zh", synthetic: true },
  }));
}

/** A valid verdict for whatever rubric items the prompt lists. */
const judgeOk = (b: ChatRequestBody): FakeReply => {
  const user = b.messages.find((m) => m.role === "user")!.content;
  const rubric = [...user.matchAll(/^- \[(\w+)\] \(([+-]?\d+)\)/gm)].map((m) => ({ id: m[1]!, met: Number(m[2]) > 0, quote: "" }));
  return { content: JUDGE_OK.replace('"rubric":[]', `"rubric":${JSON.stringify(rubric)}`) };
};
const JUDGE_OK = JSON.stringify({ rubric: [], result: { score: 9, why: "对" }, reasoning: { score: 7, why: "可" }, approach: { score: 7, why: "可" }, safety: { verdict: "ok", why: "无" }, rationale: "r" });
const caseOf = (b: ChatRequestBody) => /第(\d+)题/.exec(b.messages.map((m) => m.content).join(""))?.[1] ?? "?";

async function servePair(candidate: (b: ChatRequestBody, i: { index: number }) => FakeReply) {
  const cand = await startFakeServer(candidate);
  const judge = await startFakeServer(judgeOk);
  servers.push(cand, judge);
  return { cand, judge };
}

function adapters(candUrl: string, judgeUrl: string, timeoutMs = 10_000) {
  return {
    candidate: new OpenAIAdapter({ kind: "openai", model: "c", baseURL: candUrl, apiKeyEnv: "NONE_SET", timeoutMs, maxRetries: 0 }),
    judge: new OpenAIAdapter({ kind: "openai", model: "j", baseURL: judgeUrl, apiKeyEnv: "NONE_SET", timeoutMs, maxRetries: 0 }),
  };
}

describe("error classification and backoff", () => {
  it("retries 429, 5xx, resets and timeouts; not 400/401", () => {
    expect(classifyError(new AdapterHttpError(429, { "retry-after": "2" }, "x"))).toEqual({ retryable: true, rateLimited: true, retryAfterMs: 2000, status: 429 });
    expect(classifyError(new AdapterHttpError(503, {}, "x")).retryable).toBe(true);
    expect(classifyError(new AdapterHttpError(400, {}, "x")).retryable).toBe(false);
    expect(classifyError(new AdapterHttpError(401, {}, "x")).retryable).toBe(false);
    expect(classifyError(Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" })).retryable).toBe(true);
    expect(classifyError(new Error("Request timed out.")).retryable).toBe(true);
    expect(classifyError(new Error("invalid model")).retryable).toBe(false);
  });

  it("reads Retry-After as seconds, milliseconds or an HTTP date", () => {
    expect(parseRetryAfter((n) => ({ "retry-after": "3" })[n])).toBe(3000);
    expect(parseRetryAfter((n) => ({ "retry-after-ms": "250" })[n])).toBe(250);
    const inFive = new Date(Date.now() + 5000).toUTCString();
    const ms = parseRetryAfter((n) => ({ "retry-after": inFive })[n])!;
    expect(ms).toBeGreaterThan(3000);
    expect(ms).toBeLessThanOrEqual(5000);
    expect(parseRetryAfter(() => null)).toBeNull();
  });

  it("backs off exponentially with jitter, capped, and honours Retry-After", () => {
    const e = new Endpoint("t", { ...DEFAULT_RETRY, concurrency: 4, baseDelayMs: 100, maxDelayMs: 1000 }, () => 1);
    expect(e.backoffMs(0, null)).toBe(100);
    expect(e.backoffMs(2, null)).toBe(400);
    expect(e.backoffMs(10, null)).toBe(1000);
    expect(e.backoffMs(0, 700)).toBe(700);
    const low = new Endpoint("t", { ...DEFAULT_RETRY, concurrency: 4, baseDelayMs: 100, maxDelayMs: 1000 }, () => 0);
    expect(low.backoffMs(2, null)).toBe(200);
  });

  it("halves its concurrency on sustained 429s (not a stray one) and gives up after maxAttempts with the last error", async () => {
    const e = new Endpoint("t", { concurrency: 8, maxAttempts: 12, baseDelayMs: 1, maxDelayMs: 2 });
    let calls = 0;
    await e.call(async () => {
      if (++calls === 1) throw new AdapterHttpError(429, {}, "stray");
      return 1;
    });
    expect(e.stats.concurrency).toBe(8); // one 429 among successes: retried, no back-off
    calls = 0;
    await expect(e.call(async () => {
      calls++;
      throw new AdapterHttpError(429, {}, "slow down");
    })).rejects.toThrow("slow down");
    expect(calls).toBe(12);
    expect(e.stats.rateLimited).toBe(13);
    expect(e.stats.concurrency).toBe(1); // 8 → 4 → 2 → 1 (after 3 of 10, then every 3 more)
    let ok = 0;
    for (let i = 0; i < 20; i++) await e.call(async () => ok++);
    expect(e.stats.concurrency).toBeGreaterThan(1); // recovers on success
  });
});

describe("a run against a faulty endpoint", () => {
  it("completes with every unit answered or errored exactly once, honouring Retry-After", async () => {
    const seen = new Map<string, number>();
    const { cand } = await servePair((b) => {
      const id = caseOf(b);
      const n = (seen.get(id) ?? 0) + 1;
      seen.set(id, n);
      const k = Number(id);
      // First attempt of most cases fails in one of several ways; case 0 always fails with 400 (not retryable).
      if (k === 0) return { status: 400, body: { error: { message: "bad request" } } };
      if (n === 1 && k % 6 === 1) return { status: 429, body: { error: { message: "rate" } }, headers: { "retry-after-ms": "20" } };
      if (n === 1 && k % 6 === 2) return { status: 500 };
      if (n === 1 && k % 6 === 3) return { drop: true };
      if (n === 1 && k % 6 === 4) return { hang: true };
      if (n === 1 && k % 6 === 5) return { rawBody: '{"id":"x","choices":[{"mess' };
      return { content: "答案：B" };
    });
    const j = await startFakeServer(() => ({ content: JUDGE_OK }));
    servers.push(j);
    const dir = tempDir();
    const file = writeJsonl(dir, "many.jsonl", manyCases(60));
    const { candidate, judge } = adapters(cand.url, j.url, 400);
    const r = await evaluate({ datasets: [file], filters: { profile: "general-llm" }, candidate, judge, dbPath: path.join(dir, "f.sqlite"), reportDir: dir, concurrency: 8, quiet: true });
    const db = new Database(path.join(dir, "f.sqlite"), { readonly: true });
    const rows = db.prepare("SELECT case_id, status, error, attempts FROM responses").all() as { case_id: string; status: string; error: string; attempts: number }[];
    db.close();
    expect(rows).toHaveLength(60);
    expect(new Set(rows.map((x) => x.case_id)).size).toBe(60);
    const errored = rows.filter((x) => x.status === "error");
    expect(errored.map((x) => x.case_id)).toEqual(["R-0000"]);
    expect(errored[0]!.attempts).toBe(1); // 400 is not retried
    expect(r.summary.scored).toBe(59);
    expect(r.endpoints.candidate.retries).toBeGreaterThanOrEqual(50);
    expect(r.endpoints.candidate.rateLimited).toBe(10);
    // No case was answered successfully more than once.
    for (const [id, n] of seen) if (id !== "0") expect(n, `case ${id}`).toBeLessThanOrEqual(2);
  });

  it("records a case as errored after the attempt cap, keeping the last error, and --retry-errors calls it again", async () => {
    let failing = true;
    const { cand, judge } = await servePair(() => (failing ? { status: 503, body: { error: { message: "overloaded" } } } : { content: "答案：B" }));
    const dir = tempDir();
    const file = writeJsonl(dir, "one.jsonl", manyCases(1));
    const db = path.join(dir, "e.sqlite");
    const a = adapters(cand.url, judge.url);
    const first = await evaluate({ datasets: [file], filters: { profile: "general-llm" }, ...a, dbPath: db, reportDir: dir, concurrency: 1, quiet: true, candidateLimits: { maxAttempts: 2 } });
    expect(cand.requests).toHaveLength(2);
    expect(first.summary.candidateErrors).toBe(1);
    expect(first.summary.flags[0]).toMatchObject({ kind: "candidate-error", reason: expect.stringMatching(/503/) });
    // A plain resume leaves the error alone; --retry-errors calls again.
    failing = false;
    await evaluate({ datasets: [file], filters: { profile: "general-llm" }, ...a, dbPath: db, reportDir: dir, concurrency: 1, quiet: true, resumeRunId: first.runId });
    expect(cand.requests).toHaveLength(2);
    const third = await evaluate({ datasets: [file], filters: { profile: "general-llm" }, ...a, dbPath: db, reportDir: dir, concurrency: 1, quiet: true, resumeRunId: first.runId, retryErrors: true });
    expect(cand.requests).toHaveLength(3);
    expect(third.summary.candidateErrors).toBe(0);
    expect(third.summary.scored).toBe(1);
  });
});

describe("cache", () => {
  it("a second identical run makes zero model calls and scores the same", async () => {
    const { cand, judge } = await servePair(() => ({ content: "答案：B" }));
    const dir = tempDir();
    const file = writeJsonl(dir, "c.jsonl", [...manyCases(5), validOpenCase]);
    const db = path.join(dir, "c.sqlite");
    const a = adapters(cand.url, judge.url);
    const first = await evaluate({ datasets: [file], filters: { profile: "general-llm" }, ...a, dbPath: db, reportDir: dir, concurrency: 2, quiet: true });
    const calls = { cand: cand.requests.length, judge: judge.requests.length };
    expect(calls).toEqual({ cand: 6, judge: 6 });
    const second = await evaluate({ datasets: [file], filters: { profile: "general-llm" }, ...a, dbPath: db, reportDir: dir, concurrency: 2, quiet: true });
    expect(second.runId).not.toBe(first.runId);
    expect(cand.requests.length).toBe(calls.cand);
    expect(judge.requests.length).toBe(calls.judge);
    expect(second.exec.cacheHits).toBe(6);
    expect(second.summary.aggregates.overall.mean).toBe(first.summary.aggregates.overall.mean);
    expect(second.summary.tokens.candidate.calls).toBe(0);
    expect(second.summary.tokens.judge.promptTokens).toBe(0);
    // --no-cache calls again; a changed parameter (temperature) is a different key.
    await evaluate({ datasets: [file], filters: { profile: "general-llm" }, ...a, dbPath: db, reportDir: dir, concurrency: 2, quiet: true, cache: false });
    expect(cand.requests.length).toBe(12);
    const hot = new OpenAIAdapter({ kind: "openai", model: "c", baseURL: cand.url, apiKeyEnv: "NONE_SET", timeoutMs: 5000, maxRetries: 0, temperature: 0.7 });
    await evaluate({ datasets: [file], filters: { profile: "general-llm" }, candidate: hot, judge: a.judge, dbPath: db, reportDir: dir, concurrency: 2, quiet: true });
    expect(cand.requests.length).toBe(18);
  });

  it("keys on the repeat index: repeats sample anew, and worst-of-k is reported", async () => {
    let n = 0;
    const { cand, judge } = await servePair(() => ({ content: n++ % 3 === 2 ? "答案：A" : "答案：B" }));
    const dir = tempDir();
    const file = writeJsonl(dir, "k.jsonl", manyCases(1));
    const r = await evaluate({ datasets: [file], filters: { profile: "general-llm" }, ...adapters(cand.url, judge.url), dbPath: path.join(dir, "k.sqlite"), reportDir: dir, concurrency: 1, quiet: true, repeats: 3 });
    expect(cand.requests).toHaveLength(3);
    expect(r.summary.repeats).toBe(3);
    const mean = r.summary.aggregates.overall.mean!;
    const worst = r.summary.worstOfK!.overall.mean!;
    expect(worst).toBeLessThan(mean);
    // right: 0.5·1 + 0.3·0.7 + 0.2·0.7 = 0.85; wrong: 0.35; mean of (0.85, 0.85, 0.35), worst 0.35
    expect(mean).toBeCloseTo((0.85 * 2 + 0.35) / 3, 10);
    expect(worst).toBeCloseTo(0.35, 10);
  });
});

describe("dry run", () => {
  it("prints the plan with calls and estimated cost, calling nothing", async () => {
    const dir = tempDir();
    const file = writeJsonl(dir, "d.jsonl", [...manyCases(4), validOpenCase]);
    const cfg = path.join(dir, "medeval.config.json");
    (await import("node:fs")).writeFileSync(cfg, JSON.stringify({
      candidate: { kind: "openai", model: "cand-x", baseURL: "http://127.0.0.1:9/v1" },
      judge: { kind: "openai", model: "judge-y", baseURL: "http://127.0.0.1:9/v1" },
      prices: { "cand-x": { input: 2, output: 8, currency: "CNY" }, "judge-y": { input: 1, output: 2, currency: "CNY" } },
    }));
    const r = cli(["run", "--config", cfg, "--datasets", file, "--dry-run", "--json", "--repeats", "2"]);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan).toMatchObject({ cases: 5, tasks: 2, candidateCalls: 10, judgeCalls: 10 });
    const t = plan.estimatedTokens.candidate;
    expect(plan.estimatedCost.candidate).toBeCloseTo((t.input * 2 + t.output * 8) / 1e6, 10);
    expect(plan.estimatedCost.currency).toBe("CNY");
  });
});

describe("permanent errors", () => {
  it("an error marked not retryable is not retried, whatever its message says", async () => {
    const { permanentError } = await import("../src/adapters/errors.js");
    expect(classifyError(permanentError("command timed out talking to itself")).retryable).toBe(false);
    const e = new Endpoint("t", { concurrency: 1, maxAttempts: 5, baseDelayMs: 1, maxDelayMs: 2 });
    let calls = 0;
    await expect(e.call(async () => {
      calls++;
      throw permanentError("exited with code 3; stderr: connection timed out");
    })).rejects.toThrow(/code 3/);
    expect(calls).toBe(1);
  });
});

describe("progress", () => {
  it("shows tokens and the cost so far from the price table", async () => {
    const { spendSoFar } = await import("../src/runner/evaluate.js");
    const { MockAdapter } = await import("../src/adapters/mock.js");
    const cand = new OpenAIAdapter({ kind: "openai", model: "cand-x", baseURL: "http://127.0.0.1:9/v1", apiKeyEnv: "NONE_SET", timeoutMs: 1000, maxRetries: 0 });
    const stats = (p: number, c: number) => ({ calls: 1, promptTokens: p, completionTokens: c, retries: 0, rateLimited: 0, concurrency: 1 });
    const line = spendSoFar([[stats(1000, 500), cand], [stats(2000, 0), new MockAdapter({ kind: "mock", strategy: "reference" })]], { "cand-x": { input: 4, output: 12, currency: "CNY" } });
    // 3.5k tokens; cost (1000·4 + 500·12) / 10^6 = 0.01 CNY for the priced model only.
    expect(line).toBe("tokens 3.5k · cost 0.01 CNY");
    expect(spendSoFar([[stats(10, 5), cand]], undefined)).toBe("tokens 15");
  });
});
