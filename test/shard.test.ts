import { afterEach, describe, expect, it } from "vitest";
import path from "node:path";
import Database from "better-sqlite3";
import { startFakeServer, type FakeServer, type ChatRequestBody } from "../src/demo/fakeServer.js";
import { OpenAIAdapter } from "../src/adapters/openai.js";
import { evaluate } from "../src/runner/evaluate.js";
import { mergeShards } from "../src/store/merge.js";
import { scoreRun } from "../src/scoring/stage.js";
import { loadTaxonomy } from "../src/taxonomy/load.js";
import { loadScoringConfig } from "../src/scoring/config.js";
import { shardOf, parseShard } from "../src/runner/plan.js";
import { tempDir, writeJsonl } from "./helpers.js";

let servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

const N = 30;
const cases = Array.from({ length: N }, (_, i) => ({
  id: `S-${String(i).padStart(3, "0")}`, task: i % 2 ? "EK01" : "EK02", format: "choice",
  input: { question: `第${i}题：成人正常呼吸频率？`, options: { A: "8–10次/分", B: "12–20次/分", C: "24–30次/分" } },
  reference: { answer: "B" },
  provenance: { source: "synthetic", difficulty: "common", specialty: "全科", language: "zh", synthetic: true },
}));
const k = (b: ChatRequestBody) => Number(/第(\d+)题/.exec(b.messages.map((m) => m.content).join(""))![1]);

async function setup() {
  const cand = await startFakeServer((b) => ({ content: k(b) % 3 === 0 ? "答案：C" : "答案：B" }));
  const judge = await startFakeServer((b) => ({ content: JSON.stringify({ rubric: [], result: { score: 8, why: "x" }, reasoning: { score: k(b) % 11, why: "x" }, approach: { score: 5, why: "x" }, safety: { verdict: k(b) === 7 ? "critical" : "ok", why: "x" }, rationale: "x" }) }));
  servers.push(cand, judge);
  const dir = tempDir();
  const file = writeJsonl(dir, "s.jsonl", cases);
  const mk = () => ({
    candidate: new OpenAIAdapter({ kind: "openai", model: "c", baseURL: cand.url, apiKeyEnv: "NONE_SET", timeoutMs: 5000, maxRetries: 0 }),
    judge: new OpenAIAdapter({ kind: "openai", model: "j", baseURL: judge.url, apiKeyEnv: "NONE_SET", timeoutMs: 5000, maxRetries: 0 }),
  });
  return { dir, file, mk };
}

describe("sharding", () => {
  it("splits deterministically and completely", () => {
    const ids = cases.map((c) => c.id);
    const parts = [0, 1, 2].map((s) => ids.filter((id) => shardOf(id, 3) === s));
    expect(parts.flat().sort()).toEqual([...ids].sort());
    expect(parts.every((p) => p.length > 0)).toBe(true);
    expect(ids.map((id) => shardOf(id, 3))).toEqual(ids.map((id) => shardOf(id, 3)));
    expect(parseShard("2/3")).toEqual({ index: 2, count: 3 });
    expect(() => parseShard("4/3")).toThrow(/expected I\/N/);
    expect(() => parseShard("0/3")).toThrow();
  });

  it("three merged shards score exactly like the unsharded run", async () => {
    const { dir, file, mk } = await setup();
    const base = { datasets: [file], reportDir: dir, concurrency: 4, quiet: true };
    const whole = await evaluate({ ...base, ...mk(), filters: { profile: "general-llm" }, dbPath: path.join(dir, "whole.sqlite") });
    const shardDbs: string[] = [];
    for (let i = 1; i <= 3; i++) {
      const db = path.join(dir, `shard${i}.sqlite`);
      shardDbs.push(db);
      await evaluate({ ...base, ...mk(), filters: { profile: "general-llm", shard: { index: i, count: 3 } }, dbPath: db });
    }
    const tax = loadTaxonomy();
    const scoring = loadScoringConfig();
    const out = path.join(dir, "merged.sqlite");
    const merged = mergeShards(out, shardDbs, (store, runId, setId, repeats) => scoreRun(store, runId, setId, tax, scoring, repeats));
    expect(merged.cases).toBe(N);
    expect(merged.shards.map((s) => s.shard)).toEqual(["1/3", "2/3", "3/3"]);

    const rows = (f: string) => {
      const d = new Database(f, { readonly: true });
      const r = {
        scores: d.prepare("SELECT case_id, score, status FROM scores ORDER BY case_id").all(),
        flags: d.prepare("SELECT case_id, kind FROM flags ORDER BY case_id, kind").all(),
      };
      d.close();
      return r;
    };
    expect(rows(out)).toEqual(rows(path.join(dir, "whole.sqlite")));
    expect(rows(out).flags).toContainEqual({ case_id: "S-007", kind: "critical-safety" });
    expect(whole.summary.scored).toBe(N);
  });

  it("refuses overlapping shards, mismatched evaluations and an existing output", async () => {
    const { dir, file, mk } = await setup();
    const base = { datasets: [file], reportDir: dir, concurrency: 4, quiet: true };
    const a = path.join(dir, "a.sqlite");
    const b = path.join(dir, "b.sqlite");
    await evaluate({ ...base, ...mk(), filters: { profile: "general-llm", shard: { index: 1, count: 2 } }, dbPath: a });
    await evaluate({ ...base, ...mk(), filters: { profile: "general-llm", tasks: ["EK01"], shard: { index: 2, count: 2 } }, dbPath: b });
    const noop = () => {};
    expect(() => mergeShards(path.join(dir, "m1.sqlite"), [a, a], noop)).toThrow(/shards overlap/);
    expect(() => mergeShards(path.join(dir, "m2.sqlite"), [a, b], noop)).toThrow(/candidate, judge, filters or repeats differ/);
    expect(() => mergeShards(a, [a], noop)).toThrow(/already exists/);
  });
});

describe("stratified sample for CI subsets", () => {
  const pool = Array.from({ length: 12 }, (_, i) => ({ case: { id: `P-${i}`, task: i < 7 ? "EK01" : "DA01" } }));
  it("keeps at most n per task, the same for the same seed whatever the order, different for another seed", async () => {
    const { sampleByTask } = await import("../src/runner/plan.js");
    const a = sampleByTask(pool, 3, 42);
    expect(a.filter((c) => c.case.task === "EK01")).toHaveLength(3);
    expect(a.filter((c) => c.case.task === "DA01")).toHaveLength(3);
    const reversed = sampleByTask([...pool].reverse(), 3, 42);
    expect(reversed.map((c) => c.case.id).sort()).toEqual(a.map((c) => c.case.id).sort());
    const seeds = new Set([1, 2, 3, 4, 5].map((s) => sampleByTask(pool, 3, s).map((c) => c.case.id).sort().join()));
    expect(seeds.size).toBeGreaterThan(1);
    expect(sampleByTask(pool, 100, 1)).toHaveLength(12);
  });
});
