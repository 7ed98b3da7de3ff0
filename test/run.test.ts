import { afterEach, describe, expect, it } from "vitest";
import { readFileSync, readdirSync, existsSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { startFakeServer, type FakeServer, type ChatRequestBody } from "../src/demo/fakeServer.js";
import { OpenAIAdapter } from "../src/adapters/openai.js";
import { evaluate } from "../src/runner/evaluate.js";
import { tempDir, FIXTURE_CASES, cli } from "./helpers.js";
import { projectPath } from "../src/util/paths.js";

const weights = JSON.parse(readFileSync(projectPath("rubrics", "scoring.json"), "utf8")).formats;

/** The fake candidate: fixed answers keyed on a phrase of each fixture question. */
function candidateAnswer(body: ChatRequestBody): { content: string; reasoning_content?: string } {
  const user = body.messages.map((m) => m.content).join("\n");
  if (user.includes("华法林")) return { content: "<think>华法林是维生素K拮抗剂，监测INR。</think>答案：B" };
  if (user.includes("胸骨后压榨性疼痛")) return { content: "急性前壁ST段抬高型心肌梗死，立即再灌注治疗。", reasoning_content: "ST段抬高+持续胸痛" };
  if (user.includes("BMI")) return { content: "72/1.7² = 24.9\n答案：24.9 kg/m²" };
  if (user.includes("抽取为JSON")) return { content: '{"症状":["咳嗽"],"诊断":["急性支气管炎"],"药物":["对乙酰氨基酚"]}' };
  if (user.includes("45岁男性")) return { content: "两次空腹血糖≥7.0。\n答案：B" };
  if (user.includes("45岁女性")) return { content: "可能只是应激。\n答案：C" };
  return { content: "?" };
}

/** The fake judge: every positive rubric item met, negatives not, axes 8/6/7, safety ok. */
function judgeReply(body: ChatRequestBody): string {
  const user = body.messages.find((m) => m.role === "user")!.content;
  const items = [...user.matchAll(/^- \[(\w+)\] \(([+-]?\d+)\)/gm)].map((m) => ({ id: m[1]!, met: Number(m[2]) > 0, quote: "" }));
  return JSON.stringify({
    rubric: items,
    result: { score: 8, why: "基本正确" },
    reasoning: { score: 6, why: "推理尚可" },
    approach: { score: 7, why: "思路清晰" },
    safety: { verdict: "ok", why: "无风险" },
    rationale: "测试评审",
  });
}

let servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function setup(judgeHandler: (b: ChatRequestBody, i: { index: number }) => { content: string } = (b) => ({ content: judgeReply(b) })) {
  const cand = await startFakeServer((b) => candidateAnswer(b));
  const judge = await startFakeServer(judgeHandler);
  servers.push(cand, judge);
  const dir = tempDir();
  return {
    cand, judge, dir,
    dbPath: path.join(dir, "run.sqlite"),
    candidate: new OpenAIAdapter({ kind: "openai", model: "cand-model", baseURL: cand.url, apiKeyEnv: "MEDEVAL_TEST_CAND_KEY", timeoutMs: 10_000, maxRetries: 0 }),
    judgeAdapter: new OpenAIAdapter({ kind: "openai", model: "judge-model", baseURL: judge.url, apiKeyEnv: "MEDEVAL_TEST_JUDGE_KEY", timeoutMs: 10_000, maxRetries: 0, temperature: 0, seed: 1 }),
  };
}

describe("a full run through the openai SDK, a loopback server and a real SQLite file", () => {
  it("stores responses, judgments and scores, and aggregates what the fake answers imply", async () => {
    const s = await setup();
    const r = await evaluate({
      datasets: [FIXTURE_CASES], filters: { profile: "general-llm" }, candidate: s.candidate, judge: s.judgeAdapter,
      dbPath: s.dbPath, reportDir: s.dir, concurrency: 4, quiet: true,
    });

    // 5 cases, the group has 2 variants → 6 candidate calls; extraction needs no judge → 5 judge calls.
    expect(s.cand.requests).toHaveLength(6);
    expect(s.judge.requests).toHaveLength(5);
    expect(s.judge.requests.every((q) => q.body.temperature === 0 && q.body.seed === 1)).toBe(true);

    // Expected case scores, from the weights file and the fake replies (axes 8/6/7 → 0.8/0.6/0.7).
    const ax = { result: 0.8, reasoning: 0.6, approach: 0.7 };
    const w = (f: string, comps: Record<string, number>) => {
      const ws = weights[f] as Record<string, number>;
      let num = 0, den = 0;
      for (const [k, v] of Object.entries(comps)) if (ws[k]) { num += ws[k]! * v; den += ws[k]!; }
      return num / den;
    };
    const choiceRight = w("choice", { objective: 1, ...ax });
    const choiceWrong = w("choice", { objective: 0, ...ax });
    const expected: Record<string, number> = {
      "T-CHOICE-1": choiceRight,
      "T-OPEN-1": w("open", { rubric: 1, ...ax }), // r1 + r2 met (10/10), negative r3 not met
      "T-NUM-1": w("numeric", { objective: 1, ...ax }),
      "T-EXT-1": (2 * 1 * 0.75) / (1 + 0.75), // 3 of 4 gold facts, no wrong ones: P 1, R 0.75
      "T-GROUP-1": (() => {
        const g = weights.group;
        const mean = (choiceRight + choiceWrong) / 2;
        const consistency = 1 - (choiceRight - choiceWrong);
        return (g.variantMean * mean + g.consistency * consistency) / (g.variantMean + g.consistency);
      })(),
    };

    const db = new Database(s.dbPath, { readonly: true });
    const scores = db.prepare("SELECT case_id, score, status FROM scores").all() as { case_id: string; score: number; status: string }[];
    expect(scores).toHaveLength(5);
    for (const row of scores) {
      expect(row.status).toBe("scored");
      expect(row.score).toBeCloseTo(expected[row.case_id]!, 10);
    }
    const responses = db.prepare("SELECT case_id, variant, answer, reasoning, status FROM responses ORDER BY case_id, variant").all() as Record<string, string>[];
    expect(responses).toHaveLength(6);
    expect(responses.find((x) => x.case_id === "T-CHOICE-1")).toMatchObject({ answer: "答案：B", reasoning: "华法林是维生素K拮抗剂，监测INR。" });
    expect(responses.find((x) => x.case_id === "T-OPEN-1")!.reasoning).toBe("ST段抬高+持续胸痛");
    const judgments = db.prepare("SELECT status, result, reasoning, approach, safety, prompt_hash, attempts FROM judgments").all() as Record<string, unknown>[];
    expect(judgments).toHaveLength(5);
    expect(judgments.every((j) => j.status === "ok" && j.result === 8 && j.safety === "ok" && j.attempts === 1 && /^[0-9a-f]{64}$/.test(String(j.prompt_hash)))).toBe(true);
    const run = db.prepare("SELECT * FROM runs").get() as Record<string, string>;
    expect(run.status).toBe("completed");
    expect(run.taxonomy_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.parse(run.datasets_json!)[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    expect((db.prepare("SELECT prompt_hash FROM judgment_sets").get() as { prompt_hash: string }).prompt_hash).toMatch(/^[0-9a-f]{64}$/);
    db.close();

    // Aggregates: task = its one case; dimension = mean of its tasks; overall = mean of dimensions (weights 1).
    const a = r.summary.aggregates;
    const dims = { CE: expected["T-GROUP-1"]!, EK: expected["T-CHOICE-1"]!, WF: expected["T-OPEN-1"]!, GA: (expected["T-NUM-1"]! + expected["T-EXT-1"]!) / 2 };
    for (const [d, v] of Object.entries(dims)) expect(a.dimensions.find((x) => x.id === d)!.mean).toBeCloseTo(v, 10);
    expect(a.overall.mean).toBeCloseTo(Object.values(dims).reduce((x, y) => x + y, 0) / 4, 10);
    expect(r.summary.scored).toBe(5);
    expect(r.summary.flaggedCases).toBe(0);

    const md = readFileSync(r.reportPath, "utf8");
    expect(md).toContain(`Overall score **${(a.overall.mean! * 100).toFixed(1)}**`);
    expect(md).toContain("| CE06 | 公平与无偏见 | Fairness |");
  });

  it("fences the candidate's text as data in the judge prompt", async () => {
    const s = await setup();
    await evaluate({ datasets: [FIXTURE_CASES], filters: { profile: "general-llm", tasks: ["EK03"] }, candidate: s.candidate, judge: s.judgeAdapter, dbPath: s.dbPath, reportDir: s.dir, concurrency: 1, quiet: true });
    const prompt = s.judge.requests[0]!.body.messages.map((m) => m.content).join("\n");
    expect(prompt).toMatch(/<candidate_answer>\n答案：B\n<\/candidate_answer>/);
    expect(prompt).toMatch(/<candidate_reasoning>\n华法林是维生素K拮抗剂，监测INR。\n<\/candidate_reasoning>/);
    expect(prompt).toContain("不得执行");
    expect(prompt).toContain("选择 B，正确答案 B：正确");
  });

  it("repairs a judge reply that is not JSON, feeding the error back", async () => {
    const s = await setup((b, { index }) => (index === 0 ? { content: "我认为这个回答很好，给8分。" } : { content: judgeReply(b) }));
    await evaluate({ datasets: [FIXTURE_CASES], filters: { profile: "general-llm", tasks: ["EK03"] }, candidate: s.candidate, judge: s.judgeAdapter, dbPath: s.dbPath, reportDir: s.dir, concurrency: 1, quiet: true });
    expect(s.judge.requests).toHaveLength(2);
    const repair = s.judge.requests[1]!.body.messages;
    expect(repair).toHaveLength(4);
    expect(repair[2]).toMatchObject({ role: "assistant", content: "我认为这个回答很好，给8分。" });
    expect(repair[3]!.content).toMatch(/不是 JSON|not a JSON object/);
    const db = new Database(s.dbPath, { readonly: true });
    expect(db.prepare("SELECT status, attempts FROM judgments").get()).toEqual({ status: "ok", attempts: 2 });
    expect((db.prepare("SELECT status FROM scores").get() as { status: string }).status).toBe("scored");
    db.close();
  });

  it.each([
    ["not JSON", "评分：8/10"],
    ["wrong shape", JSON.stringify({ score: 8 })],
    ["missing field", JSON.stringify({ rubric: [], result: { score: 8, why: "x" }, reasoning: { score: 6, why: "x" }, approach: { score: 7, why: "x" }, rationale: "x" })],
    ["axis out of range", JSON.stringify({ rubric: [], result: { score: 11, why: "x" }, reasoning: { score: 6, why: "x" }, approach: { score: 7, why: "x" }, safety: { verdict: "ok", why: "x" }, rationale: "x" })],
  ])("a judge that keeps replying %s: bounded retries, stored as failed, flagged, never scored", async (_name, reply) => {
    const s = await setup(() => ({ content: reply }));
    const r = await evaluate({ datasets: [FIXTURE_CASES], filters: { profile: "general-llm", tasks: ["EK03"] }, candidate: s.candidate, judge: s.judgeAdapter, dbPath: s.dbPath, reportDir: s.dir, concurrency: 1, quiet: true });
    const repairs = JSON.parse(readFileSync(projectPath("rubrics", "scoring.json"), "utf8")).judge.repairAttempts as number;
    expect(s.judge.requests).toHaveLength(repairs + 1);
    const db = new Database(s.dbPath, { readonly: true });
    const j = db.prepare("SELECT status, attempts, result, error FROM judgments").get() as Record<string, unknown>;
    expect(j).toMatchObject({ status: "failed", attempts: repairs + 1, result: null });
    expect(String(j.error)).toMatch(/invalid judge reply/);
    expect(db.prepare("SELECT status, score FROM scores").get()).toEqual({ status: "unscored", score: null });
    expect(db.prepare("SELECT kind FROM flags").all()).toEqual([{ kind: "judge-failed" }]);
    db.close();
    expect(r.summary.aggregates.overall.mean).toBeNull();
    expect(r.summary.judgeFailures).toBe(1);
  });

  it("records a failing candidate call as that case's error, not a crash", async () => {
    const cand = await startFakeServer((b) => (b.messages.some((m) => m.content.includes("BMI")) ? { status: 400, body: { error: { message: "bad request for this case" } } } : candidateAnswer(b)));
    const judge = await startFakeServer((b) => ({ content: judgeReply(b) }));
    servers.push(cand, judge);
    const dir = tempDir();
    const r = await evaluate({
      datasets: [FIXTURE_CASES], filters: { profile: "general-llm" },
      candidate: new OpenAIAdapter({ kind: "openai", model: "c", baseURL: cand.url, apiKeyEnv: "X_NONE", timeoutMs: 5000, maxRetries: 0 }),
      judge: new OpenAIAdapter({ kind: "openai", model: "j", baseURL: judge.url, apiKeyEnv: "X_NONE", timeoutMs: 5000, maxRetries: 0 }),
      dbPath: path.join(dir, "db.sqlite"), reportDir: dir, concurrency: 2, quiet: true,
    });
    expect(r.summary.candidateErrors).toBe(1);
    expect(r.summary.scored).toBe(4);
    expect(r.summary.flags).toEqual([expect.objectContaining({ case_id: "T-NUM-1", kind: "candidate-error", reason: expect.stringMatching(/400/) })]);
  });

  it("never writes an API key into the database, the report or the output (CLI run)", async () => {
    const cand = await startFakeServer((b) => candidateAnswer(b));
    const judge = await startFakeServer((b) => ({ content: judgeReply(b) }));
    servers.push(cand, judge);
    const dir = tempDir();
    const key = `sk-test-${Math.random().toString(36).slice(2)}-SECRET`;
    const judgeKey = `jk-test-${Math.random().toString(36).slice(2)}-SECRET`;
    const res = await new Promise<{ code: number; out: string }>((resolve) => {
      // spawn (not spawnSync): the fake servers live in this process and must keep answering.
      import("node:child_process").then(({ spawn }) => {
        const p = spawn(process.execPath, [projectPath("bin", "medeval"), "run", "--datasets", FIXTURE_CASES,
          "--candidate", "openai:cand", "--base-url", cand.url, "--api-key-env", "MY_CAND_KEY",
          "--judge", "openai:judge", "--judge-base-url", judge.url, "--judge-api-key-env", "MY_JUDGE_KEY",
          "--db", path.join(dir, "k.sqlite"), "--out", dir], { env: { ...process.env, MY_CAND_KEY: key, MY_JUDGE_KEY: judgeKey, FORCE_COLOR: "0" } });
        let out = "";
        p.stdout.on("data", (d) => (out += d));
        p.stderr.on("data", (d) => (out += d));
        p.on("close", (code) => resolve({ code: code ?? -1, out }));
      });
    });
    expect(res.code).toBe(0);
    expect(res.out).toContain("report:");
    // The key really was used (so the test could fail), and reached the endpoint only.
    expect(cand.requests[0]!.headers.authorization).toBe(`Bearer ${key}`);
    expect(judge.requests[0]!.headers.authorization).toBe(`Bearer ${judgeKey}`);
    const files = readdirSync(dir).map((f) => path.join(dir, f));
    expect(files.some((f) => f.endsWith(".md"))).toBe(true);
    expect(files.some((f) => f.endsWith(".sqlite"))).toBe(true);
    for (const f of files) {
      const bytes = readFileSync(f);
      expect(bytes.includes(Buffer.from(key)), f).toBe(false);
      expect(bytes.includes(Buffer.from(judgeKey)), f).toBe(false);
    }
    expect(res.out.includes(key) || res.out.includes(judgeKey)).toBe(false);
    expect(existsSync(path.join(dir, "k.sqlite"))).toBe(true);
  });

  it("`medeval run` without a judge says what to pass and exits 2", () => {
    const r = cli(["run", "--candidate", "mock", "--datasets", FIXTURE_CASES, "--db", path.join(tempDir(), "x.sqlite")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no judge given: pass --judge openai:MODEL/);
  });
});
