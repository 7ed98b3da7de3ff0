import { afterEach, describe, expect, it } from "vitest";
import path from "node:path";
import { existsSync, writeFileSync } from "node:fs";
import Database from "better-sqlite3";
import { ReplayAdapter, loadReplayFile } from "../src/adapters/replay.js";
import { resolveAdapter } from "../src/config/resolve.js";
import { evaluate } from "../src/runner/evaluate.js";
import { startFakeServer, type FakeServer } from "../src/demo/fakeServer.js";
import { OpenAIAdapter } from "../src/adapters/openai.js";
import { UserError } from "../src/util/errors.js";
import { choiceCases, groupCase, judgeOk } from "./adapterFixture.js";
import { cliAsync, tempDir, writeJsonl } from "./helpers.js";

let servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

const replay = (file: string) => new ReplayAdapter({ kind: "replay", file });

async function judgeServer() {
  const s = await startFakeServer(judgeOk);
  servers.push(s);
  return { server: s, adapter: new OpenAIAdapter({ kind: "openai", model: "j", baseURL: s.url, apiKeyEnv: "NONE_SET", timeoutMs: 10_000, maxRetries: 0 }) };
}

/** Three choice cases (right answer B) and a group case (right answer A, variants m and f). */
function datasets(dir: string): string {
  return writeJsonl(dir, "cases.jsonl", [...choiceCases(3, "P"), groupCase("G-1")]);
}

describe("replay: loading validates every row", () => {
  it("names file, line, field and what was expected, for every bad row at once", () => {
    const dir = tempDir();
    const file = writeJsonl(dir, "bad.jsonl", [
      { case_id: "P-1", answer: "答案：B" },
      { case_id: "P-2" },
      "{not json",
      { case_id: "P-3", answer: "答案：B", anwser: "typo" },
      { case_id: "", answer: "x" },
      { case_id: "P-1", answer: "答案：C" },
    ]);
    let err: unknown;
    try {
      loadReplayFile(file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    const msg = (err as Error).message;
    expect(msg).toContain(`${file}: 5 problem(s) in the submitted answers; nothing was run`);
    expect(msg).toContain(`${file}:2: error: answer: expected the answer text`);
    expect(msg).toMatch(new RegExp(`${file.replace(/[.]/g, "\\.")}:3: error: not valid JSON`));
    expect(msg).toContain(`${file}:4: error: unknown field(s) anwser (expected case_id, variant, answer, reasoning, model)`);
    expect(msg).toContain(`${file}:5: error: case_id: expected a case id`);
    expect(msg).toContain(`${file}:6: error: case_id: duplicate answer for P-1 (first given on line 1)`);
  });

  it("reads CSV with optional columns, quoted multi-line answers, and rejects duplicate (case_id, variant) pairs", () => {
    const dir = tempDir();
    const ok = path.join(dir, "answers.csv");
    writeFileSync(ok, 'case_id,variant,answer,reasoning,model\nP-1,,"第一行\n答案：B",心率60–100,vendor-x\nG-1,m,答案：A,,\nG-1,f,答案：A,,\n');
    const { rows } = loadReplayFile(ok);
    expect(rows).toEqual([
      { line: 2, caseId: "P-1", variant: "", answer: "第一行\n答案：B", reasoning: "心率60–100", model: "vendor-x" },
      { line: 4, caseId: "G-1", variant: "m", answer: "答案：A", reasoning: null, model: null },
      { line: 5, caseId: "G-1", variant: "f", answer: "答案：A", reasoning: null, model: null },
    ]);
    const dup = path.join(dir, "dup.csv");
    writeFileSync(dup, "case_id,variant,answer\nG-1,m,答案：A\nG-1,f,答案：A\nG-1,m,答案：B\n");
    expect(() => loadReplayFile(dup)).toThrow(`${dup}:4: error: case_id: duplicate answer for G-1 variant m (first given on line 2)`);
    const cols = path.join(dir, "cols.csv");
    writeFileSync(cols, "id,answer,score\nP-1,B,1\n");
    const msg = (() => { try { loadReplayFile(cols); return ""; } catch (e) { return (e as Error).message; } })();
    expect(msg).toContain(`${cols}:1: error: case_id: missing column`);
    expect(msg).toContain(`${cols}:1: error: id: unknown column`);
    expect(msg).toContain(`${cols}:1: error: score: unknown column`);
    expect(() => loadReplayFile(path.join(dir, "answers.txt"))).toThrow(/expected a \.jsonl or \.csv answers file/);
  });

  it("--candidate replay:FILE builds the adapter config", () => {
    expect(resolveAdapter("candidate", "replay:vendor/answers.jsonl", undefined, {})).toEqual({ kind: "replay", file: "vendor/answers.jsonl" });
    expect(() => resolveAdapter("candidate", "replay:", undefined, {})).toThrow(/needs the answers file/);
  });
});

describe("replay: checked against the plan", () => {
  it("unknown ids, unknown variants and group rows without a variant stop the run before anything is written", async () => {
    const dir = tempDir();
    const cases = datasets(dir);
    const answers = writeJsonl(dir, "a.jsonl", [
      { case_id: "P-1", answer: "答案：B" },
      { case_id: "NOPE-7", answer: "答案：B" },
      { case_id: "G-1", answer: "答案：A" },
      { case_id: "G-1", variant: "x", answer: "答案：A" },
      { case_id: "P-2", variant: "m", answer: "答案：B" },
      { case_id: "ALSO-NOT-THERE", answer: "答案：B" },
    ]);
    const { adapter: judge } = await judgeServer();
    const db = path.join(dir, "r.sqlite");
    const err = await evaluate({ datasets: [cases], filters: { profile: "general-llm" }, candidate: replay(answers), judge, dbPath: db, reportDir: dir, concurrency: 2, quiet: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    const msg = (err as Error).message;
    expect(msg).toContain(`${answers}:2: error: case_id: unknown case id "NOPE-7" (not in the datasets given)`);
    expect(msg).toContain(`${answers}:3: error: variant: G-1 is a group case: give one row per variant with a variant column (m, f)`);
    expect(msg).toContain(`${answers}:4: error: variant: case G-1 has no variant "x" (expected one of m, f)`);
    expect(msg).toContain(`${answers}:5: error: variant: case P-2 is not a group case: leave variant empty`);
    expect(msg).toContain("unknown case ids: NOPE-7, ALSO-NOT-THERE");
    expect(existsSync(db)).toBe(false);
    expect(servers[0]!.requests).toHaveLength(0);
  });

  it("scores the submitted answers without calling a candidate; a missing case is recorded as 'no answer submitted'", async () => {
    const dir = tempDir();
    const cases = datasets(dir);
    const answers = writeJsonl(dir, "vendor.jsonl", [
      { case_id: "P-1", answer: "答案：B", reasoning: "正常静息心率60–100次/分", model: "vendor-llm-2" },
      { case_id: "P-3", answer: "<think>想一想</think>答案：A" },
      { case_id: "G-1", variant: "m", answer: "答案：A" },
      { case_id: "G-1", variant: "f", answer: "答案：A" },
    ]);
    const { server, adapter: judge } = await judgeServer();
    const db = path.join(dir, "r.sqlite");
    const a = replay(answers);
    const r = await evaluate({ datasets: [cases], filters: { profile: "general-llm" }, candidate: a, judge, dbPath: db, reportDir: dir, concurrency: 2, quiet: true });

    const conn = new Database(db, { readonly: true });
    const rows = conn.prepare("SELECT case_id, variant, status, answer, reasoning, model, error FROM responses WHERE run_id = ? ORDER BY case_id, variant").all(r.runId) as Record<string, string | null>[];
    const scores = Object.fromEntries((conn.prepare("SELECT case_id, objective FROM scores WHERE run_id = ?").all(r.runId) as { case_id: string; objective: number | null }[]).map((s) => [s.case_id, s.objective]));
    conn.close();
    expect(rows.map((x) => `${x.case_id}/${x.variant}:${x.status}`)).toEqual(["G-1/f:ok", "G-1/m:ok", "P-1/:ok", "P-2/:error", "P-3/:ok"]);
    expect(rows.find((x) => x.case_id === "P-2")!.error).toBe("no answer submitted for P-2 in vendor.jsonl");
    expect(rows.find((x) => x.case_id === "P-1")).toMatchObject({ reasoning: "正常静息心率60–100次/分", model: "vendor-llm-2" });
    expect(rows.find((x) => x.case_id === "P-3")).toMatchObject({ answer: "答案：A", reasoning: "想一想" });
    expect(scores["P-1"]).toBe(1);
    expect(scores["P-3"]).toBe(0);
    expect(scores["G-1"]).toBe(1);
    expect(r.summary.candidateErrors).toBe(1);
    // Only the judge was called (choice answers get their reasoning graded): one call per answered unit.
    expect(server.requests).toHaveLength(4);
  });

  it("reports missing answers and ignores rows for dataset cases outside this run's plan", async () => {
    const dir = tempDir();
    const cases = writeJsonl(dir, "cases.jsonl", [...choiceCases(2, "P"), { ...choiceCases(1, "Q")[0]!, task: "EK02" }]);
    const answers = writeJsonl(dir, "vendor.jsonl", [{ case_id: "P-1", answer: "答案：B" }, { case_id: "Q-1", answer: "答案：B" }]);
    const { loadDatasets } = await import("../src/dataset/load.js");
    const { loadTaxonomy } = await import("../src/taxonomy/load.js");
    const { planCases } = await import("../src/runner/plan.js");
    const tax = loadTaxonomy();
    const loaded = await loadDatasets([cases], tax);
    const planned = planCases(loaded.cases, tax, { profile: "general-llm", tasks: ["EK01"] });
    expect(replay(answers).check(loaded.cases, planned)).toEqual({ file: answers, missing: ["P-2"], answered: 1, notPlanned: 1 });
  });

  it("the CLI scores a vendor's CSV and prints the missing cases", async () => {
    const dir = tempDir();
    const cases = datasets(dir);
    const answers = path.join(dir, "vendor.csv");
    writeFileSync(answers, "case_id,variant,answer\nP-1,,答案：B\nP-2,,答案：B\nG-1,m,答案：A\nG-1,f,答案：B\n");
    const { server } = await judgeServer();
    const r = await cliAsync(["run", "--datasets", cases, "--candidate", `replay:${answers}`, "--judge", "openai:j", "--judge-base-url", server.url, "--db", path.join(dir, "c.sqlite"), "--out", dir, "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { execution: { candidateErrors: number; units: number }; summary: { candidateErrors: number } };
    expect(out.execution.units).toBe(5);
    expect(out.execution.candidateErrors).toBe(1);
    const r2 = await cliAsync(["run", "--datasets", cases, "--candidate", `replay:${answers}`, "--judge", "openai:j", "--judge-base-url", server.url, "--db", path.join(dir, "c2.sqlite"), "--out", dir]);
    expect(r2.code).toBe(0);
    expect(r2.stderr).toContain(`warning: ${answers}: no answer submitted for 1 planned case(s) (recorded as errors): P-3`);
    const bad = writeJsonl(dir, "bad.jsonl", [{ case_id: "ZZZ", answer: "x" }]);
    const r3 = await cliAsync(["run", "--datasets", cases, "--candidate", `replay:${bad}`, "--judge", "openai:j", "--judge-base-url", server.url, "--db", path.join(dir, "c3.sqlite"), "--out", dir]);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toContain(`${bad}:1: error: case_id: unknown case id "ZZZ"`);
    expect(existsSync(path.join(dir, "c3.sqlite"))).toBe(false);
  });
});
