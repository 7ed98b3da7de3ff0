import { afterEach, describe, expect, it } from "vitest";
import path from "node:path";
import { spawn } from "node:child_process";
import { writeFileSync, mkdirSync, readFileSync, existsSync } from "node:fs";
import Database from "better-sqlite3";
import { startFakeServer, type FakeServer, type ChatRequestBody, type FakeReply } from "../src/demo/fakeServer.js";
import { OpenAIAdapter } from "../src/adapters/openai.js";
import { evaluate } from "../src/runner/evaluate.js";
import { seededRandom } from "../src/util/random.js";
import { projectPath } from "../src/util/paths.js";
import { tempDir, writeJsonl, cli, cliAsync } from "./helpers.js";

let servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

const choiceCases = (n: number, tag = "") => Array.from({ length: n }, (_, i) => ({
  id: `F${tag}-${String(i).padStart(4, "0")}`, task: "EK01", format: "choice",
  input: { question: `${tag}第${i}题：成人正常血小板计数范围？`, options: { A: "(10–50)×10⁹/L", B: "(100–300)×10⁹/L", C: "(500–800)×10⁹/L" } },
  reference: { answer: "B" },
  provenance: { source: "synthetic", difficulty: "common", specialty: "全科", language: "zh", synthetic: true },
}));
const VERDICT = JSON.stringify({ rubric: [], result: { score: 9, why: "x" }, reasoning: { score: 7, why: "x" }, approach: { score: 7, why: "x" }, safety: { verdict: "ok", why: "x" }, rationale: "x" });
const caseNo = (b: ChatRequestBody) => /第(\d+)题/.exec(b.messages.map((m) => m.content).join(""))?.[1] ?? "?";

/** 30 % of requests fail, in every way an endpoint can fail; seeded, so the test is the same every time. */
function faulty(seed: number, ok: (b: ChatRequestBody) => FakeReply) {
  const rnd = seededRandom(seed);
  return (b: ChatRequestBody): FakeReply => {
    if (rnd() >= 0.3) return ok(b);
    switch (Math.floor(rnd() * 8)) {
      case 0: return { status: 429, headers: { "retry-after-ms": "10" }, body: { error: { message: "rate limited" } } };
      case 1: return { status: 429, body: { error: { message: "rate limited, no hint" } } };
      case 2: return { status: 500 };
      case 3: return { status: 503 };
      case 4: return { hang: true };
      case 5: return { resetMidBody: "答案：B" };
      case 6: return { rawBody: '{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assis' };
      default: return { trickle: { content: "答案：B", chunks: 4, delayMs: 150 } }; // slower than the timeout in total
    }
  };
}

describe("faults", () => {
  it("a 1000-case run at 30 % faults completes with 0 lost and 0 duplicated cases", async () => {
    const answered = new Map<string, number>();
    const cand = await startFakeServer(faulty(1, (b) => {
      answered.set(caseNo(b), (answered.get(caseNo(b)) ?? 0) + 1);
      return { content: "答案：B" };
    }), { keepBodies: false });
    const judge = await startFakeServer(faulty(2, () => ({ content: VERDICT })), { keepBodies: false });
    servers.push(cand, judge);
    const dir = tempDir();
    const file = writeJsonl(dir, "f.jsonl", choiceCases(1000));
    const db = path.join(dir, "f.sqlite");
    const mk = (url: string, model: string) => new OpenAIAdapter({ kind: "openai", model, baseURL: url, apiKeyEnv: "NONE_SET", timeoutMs: 400, maxRetries: 0 });
    const r = await evaluate({
      datasets: [file], filters: { profile: "general-llm" }, candidate: mk(cand.url, "c"), judge: mk(judge.url, "j"),
      dbPath: db, reportDir: dir, concurrency: 32, quiet: true, candidateLimits: { maxAttempts: 8, retryBaseMs: 20 }, judgeLimits: { maxAttempts: 8, retryBaseMs: 20 },
    });
    const d = new Database(db, { readonly: true });
    const rows = d.prepare("SELECT case_id, status FROM responses").all() as { case_id: string; status: string }[];
    const judged = (d.prepare("SELECT COUNT(DISTINCT response_id) AS n FROM judgments").get() as { n: number }).n;
    expect(d.pragma("integrity_check", { simple: true })).toBe("ok");
    d.close();
    // 0 lost: every case has exactly one stored response; 0 duplicated: no second row for any case.
    expect(rows).toHaveLength(1000);
    expect(new Set(rows.map((x) => x.case_id)).size).toBe(1000);
    const errored = rows.filter((x) => x.status === "error").map((x) => x.case_id);
    expect(r.summary.candidateErrors).toBe(errored.length);
    expect(r.summary.scored + r.summary.unscored).toBe(1000);
    expect(judged).toBe(1000 - errored.length);
    expect(r.endpoints.candidate.retries).toBeGreaterThan(200);
    expect(r.endpoints.candidate.rateLimited).toBeGreaterThan(0);
    // Errored cases (if any survived 8 attempts) are listed as flags and can be re-run.
    expect(r.summary.flags.filter((f) => f.kind === "candidate-error").map((f) => f.case_id).sort()).toEqual(errored.sort());
  });

  it("a run and reports in another process share the database without 'database is locked'", async () => {
    const cand = await startFakeServer(() => ({ content: "答案：B" }), { latencyMs: 20 });
    const judge = await startFakeServer(() => ({ content: VERDICT }), { latencyMs: 5 });
    servers.push(cand, judge);
    const dir = tempDir();
    const file = writeJsonl(dir, "c.jsonl", choiceCases(150, "P"));
    const db = path.join(dir, "c.sqlite");
    const run = spawn(process.execPath, [projectPath("bin", "medeval"), "run", "--datasets", file, "--candidate", "openai:c", "--base-url", cand.url,
      "--judge", "openai:j", "--judge-base-url", judge.url, "--db", db, "--out", dir, "--concurrency", "8", "--quiet"], { env: { ...process.env, FORCE_COLOR: "0" } });
    let runErr = "";
    run.stderr.on("data", (x) => (runErr += x));
    const done = new Promise<number | null>((resolve) => run.on("close", resolve));
    let reads = 0;
    let finished = false;
    void done.then(() => (finished = true));
    // Read while it writes: list runs and render the report, over and over.
    while (!finished) {
      if (existsSync(db)) {
        const a = await cliAsync(["runs", "--db", db, "--json"]);
        expect(a.stderr).not.toMatch(/locked|busy/i);
        if (a.code === 0 && JSON.parse(a.stdout).length) {
          const b = await cliAsync(["report", "--db", db, "--format", "json"]);
          expect(b.stderr).not.toMatch(/locked|busy/i);
          reads++;
        }
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await done, runErr).toBe(0);
    expect(runErr).not.toMatch(/locked|busy/i);
    expect(reads).toBeGreaterThan(0);
  });

  it("a database path that cannot be written gives a clear error and leaves nothing behind", () => {
    const dir = tempDir();
    const blocker = path.join(dir, "not-a-dir");
    writeFileSync(blocker, "x");
    const r = cli(["run", "--candidate", "mock", "--judge", "mock", "--datasets", projectPath("test", "fixtures", "cases"), "--db", path.join(blocker, "run.sqlite")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not-a-dir\/run\.sqlite: cannot open the database/);
    expect(readFileSync(blocker, "utf8")).toBe("x");
  });

  it("a full disk stops the run with a clear error and an intact, resumable database", () => {
    // SQLite's page limit stands in for a full disk: writes fail with SQLITE_FULL exactly as on a full device.
    const dir = tempDir();
    const db = path.join(dir, "full.sqlite");
    const file = writeJsonl(dir, "d.jsonl", choiceCases(300, "D"));
    mkdirSync(path.join(dir, "out"));
    const r = cli(["run", "--candidate", "mock", "--judge", "mock", "--datasets", file, "--db", db, "--out", path.join(dir, "out")], { MEDEVAL_TEST_MAX_PAGES: "100" });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error: database: the disk \(or the database's size limit\) is full .*--resume/);
    expect(r.stderr).not.toMatch(/internal error|at RunStore/);
    const d = new Database(db, { readonly: true });
    expect(d.pragma("integrity_check", { simple: true })).toBe("ok");
    const n = (d.prepare("SELECT COUNT(*) AS n FROM responses").get() as { n: number }).n;
    d.close();
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(300);
    // With space again, the run resumes and completes.
    const runId = /run (r\S+)/.exec(r.stderr)?.[1] ?? JSON.parse(cli(["runs", "--db", db, "--json"]).stdout)[0].id;
    const again = cli(["run", "--candidate", "mock", "--judge", "mock", "--datasets", file, "--db", db, "--out", path.join(dir, "out"), "--resume", runId]);
    expect(again.code).toBe(0);
  });
});
