// Which roles share one set of limits, and that a run keeps every allowed slot busy without exceeding any limit.
import { afterEach, describe, expect, it } from "vitest";
import path from "node:path";
import { evaluate, sharesEndpoint } from "../src/runner/evaluate.js";
import { OpenAIAdapter } from "../src/adapters/openai.js";
import { MockAdapter } from "../src/adapters/mock.js";
import { startFakeServer, type FakeServer, type FakeReply } from "../src/demo/fakeServer.js";
import { tempDir, writeJsonl } from "./helpers.js";

const VERDICT = JSON.stringify({ rubric: [], result: { score: 9, why: "x" }, reasoning: { score: 8, why: "x" }, approach: { score: 8, why: "x" }, safety: { verdict: "ok", why: "x" }, rationale: "x" });
const cases = Array.from({ length: 30 }, (_, i) => ({
  id: `S-${String(i).padStart(2, "0")}`, task: "EK01", format: "choice",
  input: { question: `第${i}题：成人正常呼吸频率？`, options: { A: "8–10次/分", B: "12–20次/分" } },
  reference: { answer: "B" },
  provenance: { source: "synthetic", difficulty: "common", specialty: "全科", language: "zh", synthetic: true },
}));

let servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

interface InFlight { now: number; peak: number }

/** A server that answers after 40 ms and records the most requests in flight at once (here, and over `all`). */
async function countingServer(all: InFlight = { now: 0, peak: 0 }): Promise<FakeServer & { peak: () => number }> {
  const here: InFlight = { now: 0, peak: 0 };
  const s = await startFakeServer(async (body): Promise<FakeReply> => {
    for (const c of [here, all]) c.peak = Math.max(c.peak, ++c.now);
    await new Promise((r) => setTimeout(r, 40));
    here.now--;
    all.now--;
    return { content: body.model.startsWith("judge") ? VERDICT : "答案：B" };
  });
  servers.push(s);
  return Object.assign(s, { peak: () => here.peak });
}

const openai = (model: string, url: string, keyEnv = "MEDEVAL_SHARE_KEY") => new OpenAIAdapter({ kind: "openai", model, baseURL: url, apiKeyEnv: keyEnv, timeoutMs: 10_000, maxRetries: 0 });

describe("endpoint sharing", () => {
  it("shares when candidate and every judge use one OpenAI-compatible URL and key, and no judge limits are set", () => {
    const a = "http://127.0.0.1:9001/v1";
    const b = "http://127.0.0.1:9002/v1";
    expect(sharesEndpoint(openai("c", a), [openai("judge-1", a), openai("judge-2", a)], undefined)).toBe(true);
    expect(sharesEndpoint(openai("c", a), [openai("judge-1", a), openai("judge-2", b)], undefined)).toBe(false);
    expect(sharesEndpoint(openai("c", a), [openai("judge-1", a, "OTHER_KEY")], undefined)).toBe(false);
    expect(sharesEndpoint(openai("c", a), [openai("judge-1", a)], { concurrency: 2 })).toBe(false);
    expect(sharesEndpoint(openai("c", a), [openai("judge-1", a)], { maxAttempts: 3 })).toBe(true);
    const mock = new MockAdapter({ kind: "mock", strategy: "reference" });
    expect(sharesEndpoint(mock, [mock], undefined)).toBe(false);
  });

  it("one endpoint for both: never more than --concurrency calls in flight, and all of them used", async () => {
    const s = await countingServer();
    const dir = tempDir();
    const r = await evaluate({
      datasets: [writeJsonl(dir, "s.jsonl", cases)], filters: { profile: "general-llm" },
      candidate: openai("cand", s.url), judge: openai("judge-x", s.url), dbPath: path.join(dir, "s.sqlite"), reportDir: dir, concurrency: 4, quiet: true,
    });
    expect(r.exec.candidateCalls).toBe(30);
    expect(s.requests.length).toBe(60);
    expect(s.peak()).toBe(4);
    expect(r.endpoints.candidate.calls).toBe(30); // statistics stay per role under the shared limit
    expect(r.endpoints.judge.calls).toBe(30);
  });

  it("two endpoints: each gets up to --concurrency calls, both at once", async () => {
    const both: InFlight = { now: 0, peak: 0 };
    const cand = await countingServer(both);
    const judge = await countingServer(both);
    const dir = tempDir();
    await evaluate({
      datasets: [writeJsonl(dir, "t.jsonl", cases)], filters: { profile: "general-llm" },
      candidate: openai("cand", cand.url), judge: openai("judge-x", judge.url), dbPath: path.join(dir, "t.sqlite"), reportDir: dir, concurrency: 4, quiet: true,
    });
    expect(cand.peak()).toBe(4);
    expect(judge.peak()).toBe(4);
    expect(both.peak).toBeGreaterThan(4); // the two endpoints were busy at the same time
  });
});
