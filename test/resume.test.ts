import { afterEach, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import path from "node:path";
import Database from "better-sqlite3";
import { startFakeServer, type FakeServer, type ChatRequestBody } from "../src/demo/fakeServer.js";
import { projectPath } from "../src/util/paths.js";
import { tempDir, writeJsonl } from "./helpers.js";

let servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

const N = 40;
const cases = Array.from({ length: N }, (_, i) => ({
  id: `K-${String(i).padStart(3, "0")}`, task: "EK01", format: "choice",
  input: { question: `第${i}题：成人正常体温（腋温）范围？`, options: { A: "35.0–35.5℃", B: "36.0–37.0℃", C: "37.5–38.5℃" } },
  reference: { answer: "B" },
  provenance: { source: "synthetic", difficulty: "common", specialty: "全科", language: "zh", synthetic: true },
}));
const caseOf = (b: ChatRequestBody) => /第(\d+)题/.exec(b.messages.map((m) => m.content).join(""))![1]!;
// Deterministic answers that differ by case, so equal final scores mean something.
const answer = (b: ChatRequestBody) => ({ content: Number(caseOf(b)) % 4 === 0 ? "答案：A" : "答案：B" });
const judgeReply = (b: ChatRequestBody) => {
  const k = Number(caseOf(b));
  return { content: JSON.stringify({ rubric: [], result: { score: 8, why: "x" }, reasoning: { score: k % 10, why: "x" }, approach: { score: 6, why: "x" }, safety: { verdict: "ok", why: "x" }, rationale: "x" }) };
};

function runCli(args: string[], onStderr?: (text: string, kill: () => void) => void): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [projectPath("bin", "medeval"), "run", ...args], { env: { ...process.env, FORCE_COLOR: "0" } });
    let stderr = "";
    p.stderr.on("data", (d) => {
      stderr += d;
      onStderr?.(stderr, () => p.kill("SIGKILL"));
    });
    p.stdout.on("data", () => {});
    p.on("close", (code, signal) => resolve({ code, signal, stderr }));
  });
}

describe("kill -9 mid-run, then resume", () => {
  // Several kill points (early, middle, late), each a separate run: the seeds of this test.
  it.each([7, 18, 33])("killed after %i candidate calls: repeats no finished call and ends with the scores of an uninterrupted run", async (killAfter) => {
    const dir = tempDir();
    const file = writeJsonl(dir, "k.jsonl", cases);
    let killAt = Infinity;
    let kill: (() => void) | null = null;
    const cand = await startFakeServer((b, { index }) => {
      if (index + 1 >= killAt && kill) kill();
      return answer(b);
    }, { latencyMs: 25 });
    const judge = await startFakeServer(judgeReply, { latencyMs: 5 });
    servers.push(cand, judge);
    const db = path.join(dir, "kill.sqlite");
    const args = ["--datasets", file, "--candidate", "openai:c", "--base-url", cand.url, "--judge", "openai:j", "--judge-base-url", judge.url, "--concurrency", "4", "--db", db, "--out", dir];

    killAt = killAfter;
    let runId = "";
    const first = await runCli(args, (text, k) => {
      const m = /run (r\S+)/.exec(text);
      if (m) runId = m[1]!;
      kill = k;
    });
    expect(first.signal).toBe("SIGKILL");
    expect(runId).toMatch(/^r\d{8}-/);

    const mid = new Database(db, { readonly: true });
    expect(mid.pragma("integrity_check", { simple: true })).toBe("ok");
    const finished = (mid.prepare("SELECT case_id FROM responses WHERE status = 'ok'").all() as { case_id: string }[]).map((r) => Number(r.case_id.slice(2)));
    const judgedBefore = (mid.prepare("SELECT COUNT(*) AS n FROM judgments").get() as { n: number }).n;
    expect((mid.prepare("SELECT status FROM runs").get() as { status: string }).status).toBe("running"); // killed: never marked
    mid.close();
    expect(finished.length).toBeGreaterThan(0);
    expect(finished.length).toBeLessThan(N);

    const callsBefore = new Map<string, number>();
    for (const r of cand.requests) callsBefore.set(caseOf(r.body), (callsBefore.get(caseOf(r.body)) ?? 0) + 1);
    const judgeCallsBefore = judge.requests.length;
    kill = null;
    const second = await runCli([...args, "--resume", runId]);
    expect(second.code).toBe(0);

    const calls = new Map<string, number>();
    for (const r of cand.requests) calls.set(caseOf(r.body), (calls.get(caseOf(r.body)) ?? 0) + 1);
    for (const k of finished) expect(calls.get(String(k)), `finished case ${k} called again`).toBe(1);
    for (let k = 0; k < N; k++) expect(calls.get(String(k)) ?? 0).toBeGreaterThanOrEqual(1);
    // Judge calls after the resume: exactly the responses that had no judgment yet.
    expect(judge.requests.length - judgeCallsBefore).toBe(N - judgedBefore);
    expect(callsBefore.size).toBeGreaterThan(0);

    // The same evaluation without interruption, in a fresh database.
    const clean = path.join(dir, "clean.sqlite");
    const third = await runCli(["--datasets", file, "--candidate", "openai:c", "--base-url", cand.url, "--judge", "openai:j", "--judge-base-url", judge.url, "--concurrency", "4", "--db", clean, "--out", dir]);
    expect(third.code).toBe(0);
    const scores = (f: string) => {
      const d = new Database(f, { readonly: true });
      const rows = d.prepare("SELECT case_id, score FROM scores ORDER BY case_id").all();
      const status = (d.prepare("SELECT status FROM runs").get() as { status: string }).status;
      expect(d.pragma("integrity_check", { simple: true })).toBe("ok");
      d.close();
      return { rows, status };
    };
    const resumed = scores(db);
    const uninterrupted = scores(clean);
    expect(resumed.status).toBe("completed");
    expect(resumed.rows).toHaveLength(N);
    expect(resumed.rows).toEqual(uninterrupted.rows);
  });
});

describe("answers stored without their judgment (the process died between the two)", () => {
  it("a resume judges exactly those answers, as stored, and calls the candidate for none", async () => {
    const dir = tempDir();
    const file = writeJsonl(dir, "k.jsonl", cases);
    const cand = await startFakeServer(answer);
    const judge = await startFakeServer(judgeReply);
    servers.push(cand, judge);
    const db = path.join(dir, "half.sqlite");
    const args = ["--datasets", file, "--candidate", "openai:c", "--base-url", cand.url, "--judge", "openai:j", "--judge-base-url", judge.url, "--concurrency", "4", "--db", db, "--out", dir];
    expect((await runCli(args)).code).toBe(0);

    // Drop the judgments of every third case and mark the run as cut short, as a kill between answer and verdict leaves it.
    const d = new Database(db);
    const runId = (d.prepare("SELECT id FROM runs").get() as { id: string }).id;
    const unjudged = d.prepare("SELECT r.id, r.case_id, r.answer FROM responses r WHERE CAST(substr(r.case_id, 3) AS INTEGER) % 3 = 0").all() as { id: number; case_id: string; answer: string }[];
    d.prepare(`DELETE FROM judgments WHERE response_id IN (${unjudged.map((u) => u.id).join(",")})`).run();
    d.prepare("DELETE FROM scores").run();
    d.prepare("UPDATE runs SET status = 'running'").run();
    const before = d.prepare("SELECT case_id, score FROM scores ORDER BY case_id").all();
    d.close();
    expect(before).toHaveLength(0);
    expect(unjudged.length).toBe(Math.ceil(N / 3));

    const candCalls = cand.requests.length;
    const judgeCalls = judge.requests.length;
    expect((await runCli([...args, "--resume", runId])).code).toBe(0);
    expect(cand.requests.length).toBe(candCalls);
    const rejudged = judge.requests.slice(judgeCalls);
    expect(rejudged.map((r) => Number(caseOf(r.body))).sort((a, b) => a - b)).toEqual(unjudged.map((u) => Number(u.case_id.slice(2))).sort((a, b) => a - b));
    // Each verdict was asked about the answer that was stored for its case.
    for (const r of rejudged) {
      const stored = unjudged.find((u) => Number(u.case_id.slice(2)) === Number(caseOf(r.body)))!;
      expect(r.body.messages.map((m) => m.content).join("\n")).toContain(stored.answer);
    }
    const after = new Database(db, { readonly: true });
    expect((after.prepare("SELECT COUNT(*) AS n FROM scores WHERE status = 'scored'").get() as { n: number }).n).toBe(N);
    expect((after.prepare("SELECT status FROM runs").get() as { status: string }).status).toBe("completed");
    after.close();
  });
});
