import { afterEach, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import path from "node:path";
import Database from "better-sqlite3";
import { startFakeServer, type FakeServer } from "../src/demo/fakeServer.js";
import { projectPath } from "../src/util/paths.js";
import { tempDir, writeJsonl, cliAsync } from "./helpers.js";

let servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

const cases = Array.from({ length: 40 }, (_, i) => ({
  id: `I-${String(i).padStart(3, "0")}`, task: "EK01", format: "choice",
  input: { question: `第${i}题：成人正常呼吸频率？`, options: { A: "8–10次/分", B: "12–20次/分" } },
  reference: { answer: "B" },
  provenance: { source: "synthetic", difficulty: "common", specialty: "全科", language: "zh", synthetic: true },
}));
const VERDICT = JSON.stringify({ rubric: [], result: { score: 9, why: "x" }, reasoning: { score: 8, why: "x" }, approach: { score: 8, why: "x" }, safety: { verdict: "ok", why: "x" }, rationale: "x" });

async function interrupted(signals: number, signal: NodeJS.Signals = "SIGINT") {
  const cand = await startFakeServer(() => ({ content: "答案：B" }), { latencyMs: 150 });
  const judge = await startFakeServer(() => ({ content: VERDICT }), { latencyMs: 10 });
  servers.push(cand, judge);
  const dir = tempDir();
  const file = writeJsonl(dir, "i.jsonl", cases);
  const db = path.join(dir, "i.sqlite");
  const args = ["run", "--datasets", file, "--candidate", "openai:c", "--base-url", cand.url, "--judge", "openai:j", "--judge-base-url", judge.url, "--concurrency", "4", "--db", db, "--out", dir];
  const p = spawn(process.execPath, [projectPath("bin", "medeval"), ...args], { env: { ...process.env, FORCE_COLOR: "0" } });
  let stderr = "";
  p.stderr.on("data", (d) => (stderr += d));
  p.stdout.on("data", () => {});
  const exited = new Promise<number | null>((resolve) => p.on("close", (code) => resolve(code)));
  // Interrupt once some answers are in.
  while (cand.requests.length < 8) await new Promise((r) => setTimeout(r, 20));
  for (let i = 0; i < signals; i++) {
    p.kill(signal);
    await new Promise((r) => setTimeout(r, 30));
  }
  const code = await exited;
  return { code, stderr, db, args, cand };
}

describe("Ctrl-C", () => {
  it("once: finishes the calls in flight, marks the run interrupted, and the run resumes to completion", async () => {
    const r = await interrupted(1);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/stopping \(SIGINT\): finishing calls in flight/);
    const d = new Database(r.db, { readonly: true });
    const run = d.prepare("SELECT id, status FROM runs").get() as { id: string; status: string };
    const answered = (d.prepare("SELECT COUNT(*) AS n FROM responses").get() as { n: number }).n;
    const judged = (d.prepare("SELECT COUNT(*) AS n FROM judgments").get() as { n: number }).n;
    d.close();
    expect(run.status).toBe("interrupted");
    expect(answered).toBeLessThan(40);
    expect(answered).toBeGreaterThanOrEqual(8); // every call that was in flight finished and was stored
    expect(judged).toBe(answered);
    const before = r.cand.requests.length;
    const resumed = await cliAsync([...r.args, "--resume", run.id]);
    expect(resumed.code).toBe(0);
    expect(r.cand.requests.length - before).toBe(40 - answered);
    const after = new Database(r.db, { readonly: true });
    expect((after.prepare("SELECT status FROM runs").get() as { status: string }).status).toBe("completed");
    expect((after.prepare("SELECT COUNT(*) AS n FROM scores WHERE status = 'scored'").get() as { n: number }).n).toBe(40);
    after.close();
  });

  it("twice: leaves at once, and the database is consistent", async () => {
    const r = await interrupted(2);
    expect(r.code).toBe(130);
    const d = new Database(r.db, { readonly: true });
    expect(d.pragma("integrity_check", { simple: true })).toBe("ok");
    // Every stored answer is whole: no row without its status, and judgments only for stored answers.
    expect((d.prepare("SELECT COUNT(*) AS n FROM responses WHERE status NOT IN ('ok', 'error')").get() as { n: number }).n).toBe(0);
    expect((d.prepare("SELECT COUNT(*) AS n FROM judgments j LEFT JOIN responses r ON r.id = j.response_id WHERE r.id IS NULL").get() as { n: number }).n).toBe(0);
    d.close();
  });

  it("SIGTERM once stops as gracefully (exit 143), and the resume repeats no call", async () => {
    const r = await interrupted(1, "SIGTERM");
    expect(r.code, r.stderr).toBe(143);
    expect(r.stderr).toMatch(/stopping \(SIGTERM\)/);
    const d = new Database(r.db, { readonly: true });
    const run = d.prepare("SELECT id, status FROM runs").get() as { id: string; status: string };
    const answered = (d.prepare("SELECT COUNT(*) AS n FROM responses").get() as { n: number }).n;
    d.close();
    expect(run.status).toBe("interrupted");
    const resumed = await cliAsync([...r.args, "--resume", run.id]);
    expect(resumed.code).toBe(0);
    // Every case's question is unique: a repeated call would show as a question asked twice.
    const asked = r.cand.requests.map((q) => JSON.stringify(q.body.messages));
    expect(asked.length).toBe(40);
    expect(new Set(asked).size).toBe(40);
    expect(answered).toBeGreaterThanOrEqual(8);
  });
});
