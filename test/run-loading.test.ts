// How a run reads its datasets: a first pass validates and plans from summaries, a second stores the planned cases.
import { describe, expect, it } from "vitest";
import path from "node:path";
import { appendFileSync } from "node:fs";
import Database from "better-sqlite3";
import { evaluate } from "../src/runner/evaluate.js";
import { MockAdapter } from "../src/adapters/mock.js";
import { OpenAIAdapter } from "../src/adapters/openai.js";
import { loadDatasets } from "../src/dataset/load.js";
import { planCases } from "../src/runner/plan.js";
import { loadTaxonomy } from "../src/taxonomy/load.js";
import { hashOf } from "../src/util/hash.js";
import type { Adapter } from "../src/adapters/types.js";
import { projectPath } from "../src/util/paths.js";
import { tempDir, validOpenCase, writeJsonl } from "./helpers.js";

const BUILTIN = projectPath("datasets", "cases");

const mock = () => new MockAdapter({ kind: "mock", strategy: "reference" });

/** More cases than a run keeps parsed from its first pass, over six tasks. */
function manyCases(n: number): unknown[] {
  const tasks = ["EK01", "EK02", "EK03", "DA01", "DA02", "GA01"];
  return Array.from({ length: n }, (_, i) => ({
    ...validOpenCase, id: `M-${String(i).padStart(5, "0")}`, task: tasks[i % tasks.length],
    input: { ...validOpenCase.input, question: `第${i}例：最可能的诊断？` },
  }));
}

describe("run loading", () => {
  it("stores exactly the planned cases, byte for byte as a whole-file load and plan would, under filters and sampling", async () => {
    const tax = loadTaxonomy();
    const dir = tempDir();
    const filters = { profile: "general-llm", dimensions: ["DA", "EK"], sample: { perTask: 2, seed: 7 } };
    const r = await evaluate({ datasets: [BUILTIN], filters, candidate: mock(), judge: mock(), dbPath: path.join(dir, "l.sqlite"), reportDir: dir, concurrency: 4, quiet: true });
    const expected = planCases((await loadDatasets([BUILTIN], tax)).cases, tax, filters);
    expect(expected.length).toBe(2 * 24); // 12 tasks in each of DA and EK, every one with ≥ 2 cases
    const db = new Database(r.dbPath, { readonly: true });
    const rows = db.prepare("SELECT case_id, content_hash, case_json FROM run_cases WHERE run_id = ? ORDER BY case_id").all(r.runId) as { case_id: string; content_hash: string; case_json: string }[];
    db.close();
    const want = [...expected].sort((a, b) => (a.case.id < b.case.id ? -1 : 1));
    expect(rows.map((x) => x.case_id)).toEqual(want.map((x) => x.case.id));
    expect(rows.map((x) => x.content_hash)).toEqual(want.map((x) => x.contentHash));
    expect(rows.map((x) => JSON.parse(x.case_json))).toEqual(want.map((x) => x.case));
    expect(r.exec.units).toBe(want.reduce((n, x) => n + (x.case.format === "group" ? x.case.variants.length : 1), 0));
  });

  it("above 5,000 cases the planned ones are read again (second pass) and stored exactly as a whole-file load would", async () => {
    const tax = loadTaxonomy();
    const dir = tempDir();
    const file = writeJsonl(dir, "many.jsonl", manyCases(5200));
    const filters = { profile: "general-llm", sample: { perTask: 3, seed: 11 }, shard: { index: 2, count: 2 } };
    const r = await evaluate({ datasets: [file], filters, candidate: mock(), judge: mock(), dbPath: path.join(dir, "m.sqlite"), reportDir: dir, concurrency: 4, quiet: true });
    const expected = planCases((await loadDatasets([file], tax)).cases, tax, filters).sort((a, b) => (a.case.id < b.case.id ? -1 : 1));
    expect(expected.length).toBeGreaterThan(0);
    const db = new Database(r.dbPath, { readonly: true });
    const rows = db.prepare("SELECT case_id, content_hash, case_json FROM run_cases WHERE run_id = ? ORDER BY case_id").all(r.runId) as { case_id: string; content_hash: string; case_json: string }[];
    db.close();
    expect(rows.map((x) => x.case_id)).toEqual(expected.map((x) => x.case.id));
    expect(rows.map((x) => x.content_hash)).toEqual(expected.map((x) => x.contentHash));
    expect(rows.map((x) => JSON.parse(x.case_json))).toEqual(expected.map((x) => x.case));
  });

  it("a dataset file that changes between the two passes stops the run, and nothing is stored", async () => {
    const dir = tempDir();
    const file = writeJsonl(dir, "c.jsonl", manyCases(5001));
    // describe() is asked for between planning and storing: the moment another process could rewrite the file.
    const sneaky: Adapter = Object.assign(mock(), {
      describe() {
        appendFileSync(file, JSON.stringify({ ...validOpenCase, id: "X-OPEN-2" }) + "\n");
        return { kind: "mock" };
      },
    });
    const dbPath = path.join(dir, "c.sqlite");
    await expect(evaluate({ datasets: [file], filters: { profile: "general-llm" }, candidate: sneaky, judge: mock(), dbPath, reportDir: dir, concurrency: 1, quiet: true }))
      .rejects.toThrow(/c\.jsonl changed while the run was reading them; nothing was run/);
    const db = new Database(dbPath, { readonly: true });
    expect(db.prepare("SELECT count(*) AS n FROM runs").get()).toEqual({ n: 0 });
    expect(db.prepare("SELECT count(*) AS n FROM run_cases").get()).toEqual({ n: 0 });
    db.close();
  });

  it("identifiers in cases outside the plan do not stop a run; in planned cases they do", async () => {
    process.env.MEDEVAL_LOAD_KEY = "dummy";
    const remote = new OpenAIAdapter({ kind: "openai", model: "m", baseURL: "http://medeval-test.invalid/v1", apiKeyEnv: "MEDEVAL_LOAD_KEY", timeoutMs: 1000, maxRetries: 0 });
    const dir = tempDir();
    const pii = { ...validOpenCase, id: "PII-X", task: "DA02", input: { context: "患者姓名：王小明，邮箱 wxm@example.com。发热3天。", question: "诊断？" } };
    const clean = { ...validOpenCase, id: "CLEAN-1", task: "DA01" };
    const file = writeJsonl(dir, "p.jsonl", [clean, pii]);
    // Planned: DA01 only, so the case with identifiers never leaves; the remote call then fails (no network), which
    // is recorded as the case's error: the point is that the identifier check did not refuse the run.
    const ok = await evaluate({ datasets: [file], filters: { profile: "general-llm", tasks: ["DA01"] }, candidate: remote, judge: mock(), dbPath: path.join(dir, "a.sqlite"), reportDir: dir, concurrency: 1, quiet: true, candidateLimits: { maxAttempts: 1 } });
    expect(ok.exec.units).toBe(1);
    await expect(evaluate({ datasets: [file], filters: { profile: "general-llm" }, candidate: remote, judge: mock(), dbPath: path.join(dir, "b.sqlite"), reportDir: dir, concurrency: 1, quiet: true }))
      .rejects.toThrow(/p\.jsonl:2: PII-X input\.context: name/);
    delete process.env.MEDEVAL_LOAD_KEY;
  });

  it("the content hash of a stored case is the hash of the validated case", async () => {
    const dir = tempDir();
    const file = writeJsonl(dir, "h.jsonl", [validOpenCase]);
    const r = await evaluate({ datasets: [file], filters: { profile: "general-llm" }, candidate: mock(), judge: mock(), dbPath: path.join(dir, "h.sqlite"), reportDir: dir, concurrency: 1, quiet: true });
    const db = new Database(r.dbPath, { readonly: true });
    const row = db.prepare("SELECT content_hash, case_json FROM run_cases").get() as { content_hash: string; case_json: string };
    db.close();
    expect(row.content_hash).toBe(hashOf(JSON.parse(row.case_json)));
  });
});
