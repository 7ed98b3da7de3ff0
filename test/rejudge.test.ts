// Re-judging stored answers: a new judgment set, no candidate call, the first set untouched.
import { afterEach, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import path from "node:path";
import { spawn } from "node:child_process";
import Database from "better-sqlite3";
import { startFakeServer, type FakeServer, type ChatRequestBody } from "../src/demo/fakeServer.js";
import { OpenAIAdapter } from "../src/adapters/openai.js";
import { evaluate } from "../src/runner/evaluate.js";
import { rejudgeRun } from "../src/judge/rejudge.js";
import { openDatabase } from "../src/store/db.js";
import { RunStore } from "../src/store/runStore.js";
import { loadScoringConfig } from "../src/scoring/config.js";
import { loadJudgeTemplates } from "../src/judge/prompt.js";
import { loadTaxonomy } from "../src/taxonomy/load.js";
import { tempDir, FIXTURE_CASES, cli } from "./helpers.js";
import { projectPath } from "../src/util/paths.js";

const W = JSON.parse(readFileSync(projectPath("rubrics", "scoring.json"), "utf8")).formats as Record<string, Record<string, number>>;

function candidateAnswer(body: ChatRequestBody): { content: string } {
  const user = body.messages.map((m) => m.content).join("\n");
  if (user.includes("华法林")) return { content: "华法林监测INR。\n答案：B" };
  if (user.includes("胸骨后压榨性疼痛")) return { content: "急性前壁ST段抬高型心肌梗死，立即再灌注治疗。" };
  if (user.includes("BMI")) return { content: "答案：24.9 kg/m²" };
  if (user.includes("抽取为JSON")) return { content: '{"症状":["咳嗽"]}' };
  if (user.includes("45岁男性")) return { content: "答案：B" };
  return { content: "答案：C" };
}

function judgeWith(result: number, reasoning: number, approach: number) {
  return (body: ChatRequestBody) => {
    const user = body.messages.find((m) => m.role === "user")!.content;
    const items = [...user.matchAll(/^- \[(\w+)\] \(([+-]?\d+)\)/gm)].map((m) => ({ id: m[1]!, met: Number(m[2]) > 0, quote: "" }));
    return { content: JSON.stringify({ rubric: items, result: { score: result, why: "r" }, reasoning: { score: reasoning, why: "r" }, approach: { score: approach, why: "a" }, safety: { verdict: "ok", why: "s" }, rationale: "x" }) };
  };
}

let servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

const adapter = (model: string, url: string) => new OpenAIAdapter({ kind: "openai", model, baseURL: url, apiKeyEnv: "MEDEVAL_TEST_NO_KEY", timeoutMs: 10_000, maxRetries: 0, temperature: 0, seed: 1 });

async function firstRun() {
  const cand = await startFakeServer((b) => candidateAnswer(b));
  const judgeA = await startFakeServer(judgeWith(8, 6, 7));
  servers.push(cand, judgeA);
  const dir = tempDir();
  const dbPath = path.join(dir, "run.sqlite");
  const r = await evaluate({
    datasets: [FIXTURE_CASES], filters: { profile: "general-llm" }, candidate: adapter("cand", cand.url), judge: adapter("judge-a", judgeA.url),
    dbPath, reportDir: dir, concurrency: 2, quiet: true, cache: false,
  });
  return { cand, judgeA, dir, dbPath, runId: r.runId };
}

function snapshot(dbPath: string, setId: number) {
  const db = new Database(dbPath, { readonly: true });
  const s = {
    judgments: db.prepare("SELECT * FROM judgments WHERE set_id = ? ORDER BY id").all(setId),
    scores: db.prepare("SELECT * FROM scores WHERE set_id = ? ORDER BY case_id").all(setId),
    flags: db.prepare("SELECT * FROM flags WHERE set_id = ? ORDER BY id").all(setId),
    responses: db.prepare("SELECT * FROM responses ORDER BY id").all(),
  };
  db.close();
  return s;
}

describe("rejudge", () => {
  it("judges the stored answers again as a new set: no candidate call, the first set untouched", async () => {
    const f = await firstRun();
    const candCalls = f.cand.requests.length;
    expect(candCalls).toBe(6);
    const before = snapshot(f.dbPath, 1);
    expect(before.judgments).toHaveLength(5);

    const judgeB = await startFakeServer(judgeWith(4, 3, 2));
    servers.push(judgeB);
    const db = openDatabase(f.dbPath);
    const store = new RunStore(db);
    const r = await rejudgeRun({
      store, runId: f.runId, label: "judge-b", judges: [adapter("judge-b", judgeB.url)], templates: loadJudgeTemplates(),
      tax: loadTaxonomy(), scoring: loadScoringConfig(), concurrency: 3,
    });
    db.close();

    expect(f.cand.requests.length - candCalls).toBe(0);
    expect(judgeB.requests).toHaveLength(5); // the extraction case needs no judge
    expect(r).toMatchObject({ label: "judge-b", resumed: false, responses: 5, judgeCalls: 5, judgeFailures: 0 });
    expect(snapshot(f.dbPath, 1)).toEqual(before);

    // Judge B saw exactly what the candidate was shown and what it answered.
    const shown = judgeB.requests.find((q) => q.body.messages[1]!.content.includes("华法林"))!.body.messages[1]!.content;
    expect(shown).toMatch(/<candidate_answer>\n华法林监测INR。\n答案：B\n<\/candidate_answer>/);

    const after = snapshot(f.dbPath, r.setId);
    expect(after.judgments.every((j) => (j as { judge: string }).judge === "openai:judge-b")).toBe(true);
    const choice = (after.scores as { case_id: string; score: number }[]).find((s) => s.case_id === "T-CHOICE-1")!;
    const w = W.choice!;
    expect(choice.score).toBeCloseTo((w.objective! * 1 + w.reasoning! * 0.3 + w.approach! * 0.2) / (w.objective! + w.reasoning! + w.approach!), 10);

    // Reports choose the set.
    const rep = cli(["report", f.runId, "--db", f.dbPath, "--set", "judge-b", "--format", "json"]);
    expect(rep.code, rep.stderr).toBe(0);
    const sum = JSON.parse(rep.stdout);
    expect(sum.run.judgmentSet).toBe("judge-b");
    const first = JSON.parse(cli(["report", f.runId, "--db", f.dbPath, "--set", "default", "--format", "json"]).stdout);
    expect(first.run.judgmentSet).toBe("default");
    expect(first.overall.mean).toBeGreaterThan(sum.overall.mean); // A graded 8/6/7, B 4/3/2
  });

  it("resumes a set with the same judges, refuses a label taken by other judges", async () => {
    const f = await firstRun();
    const judgeB = await startFakeServer(judgeWith(4, 3, 2));
    servers.push(judgeB);
    const db = openDatabase(f.dbPath);
    const store = new RunStore(db);
    const opts = { store, runId: f.runId, templates: loadJudgeTemplates(), tax: loadTaxonomy(), scoring: loadScoringConfig(), concurrency: 2 };
    const first = await rejudgeRun({ ...opts, judges: [adapter("judge-b", judgeB.url)] });
    expect(first.label).toBe("rejudge-2");
    const again = await rejudgeRun({ ...opts, label: "rejudge-2", judges: [adapter("judge-b", judgeB.url)] });
    expect(again).toMatchObject({ resumed: true, judgeCalls: 0 });
    expect(judgeB.requests).toHaveLength(5);
    await expect(rejudgeRun({ ...opts, label: "rejudge-2", judges: [adapter("judge-c", judgeB.url)] })).rejects.toThrow(/already has a judgment set "rejudge-2" made with other judges/);
    db.close();
  });

  it("reuses an identical stored judgment unless told not to (cache: false / --no-cache)", async () => {
    const f = await firstRun();
    const judgeC = await startFakeServer(judgeWith(5, 5, 5));
    servers.push(judgeC);
    const db = openDatabase(f.dbPath);
    const opts = { store: new RunStore(db), runId: f.runId, judges: [adapter("judge-c", judgeC.url)], templates: loadJudgeTemplates(), tax: loadTaxonomy(), scoring: loadScoringConfig(), concurrency: 2 };
    await rejudgeRun({ ...opts, label: "c1" });
    expect(judgeC.requests).toHaveLength(5);
    const c2 = await rejudgeRun({ ...opts, label: "c2" });
    expect(judgeC.requests).toHaveLength(5); // identical judge, prompt, answers: copied, no call
    const cachedRows = db.prepare("SELECT COUNT(*) AS n FROM judgments WHERE set_id = ? AND cached = 1").get(c2.setId) as { n: number };
    expect(cachedRows.n).toBe(5);
    await rejudgeRun({ ...opts, label: "c3", cache: false });
    expect(judgeC.requests).toHaveLength(10);
    db.close();
  });

  it("per-item mode as a re-judge: stored and scored like any set", async () => {
    const f = await firstRun();
    const calls: string[] = [];
    const judge = await startFakeServer((body) => {
      const user = body.messages[1]!.content;
      const item = /^\[(r\d)\] \(([+-]?\d+)\)/m.exec(user);
      calls.push(item ? item[1]! : "axes");
      if (item) return { content: JSON.stringify({ id: item[1], met: Number(item[2]) > 0, quote: "q" }) };
      return judgeWith(8, 6, 7)(body);
    });
    servers.push(judge);
    const cfg = loadScoringConfig();
    const db = openDatabase(f.dbPath);
    const r = await rejudgeRun({
      store: new RunStore(db), runId: f.runId, label: "per-item", judges: [adapter("judge-a", judge.url)], templates: loadJudgeTemplates(),
      tax: loadTaxonomy(), scoring: { ...cfg, judge: { ...cfg.judge, mode: "per-item" } }, concurrency: 1,
    });
    db.close();
    // T-OPEN-1 has 3 items → 3 item calls + 1 axes call; the other 4 judged answers have no items → 1 call each.
    expect(calls.filter((c) => c !== "axes").sort()).toEqual(["r1", "r2", "r3"]);
    expect(calls.filter((c) => c === "axes")).toHaveLength(5);
    // Same verdicts as the all-items judge A: the same scores.
    const a = snapshot(f.dbPath, 1).scores as { case_id: string; score: number }[];
    const b = snapshot(f.dbPath, r.setId).scores as { case_id: string; score: number }[];
    expect(b.map((s) => s.case_id)).toEqual(a.map((s) => s.case_id));
    b.forEach((s, i) => expect(s.score).toBeCloseTo(a[i]!.score, 12));
  });

  it("`medeval rejudge` on the command line: new set, JSON out, no candidate call; bad label is exit 2", async () => {
    const f = await firstRun();
    const candCalls = f.cand.requests.length;
    const judgeB = await startFakeServer(judgeWith(5, 5, 5));
    servers.push(judgeB);
    const run = (args: string[]) => new Promise<{ code: number; out: string; err: string }>((resolve) => {
      const p = spawn(process.execPath, [projectPath("bin", "medeval"), "rejudge", f.runId, "--db", f.dbPath, ...args], { env: { ...process.env, FORCE_COLOR: "0" } });
      let out = "", err = "";
      p.stdout.on("data", (d) => (out += d));
      p.stderr.on("data", (d) => (err += d));
      p.on("close", (code) => resolve({ code: code ?? -1, out, err }));
    });
    const res = await run(["--judge", `openai:cand`, "--judge-base-url", judgeB.url, "--label", "cli-set", "--json"]);
    expect(res.code, res.err).toBe(0);
    const j = JSON.parse(res.out);
    expect(j.label).toBe("cli-set");
    expect(j.sets.map((s: { label: string }) => s.label)).toEqual(["default", "cli-set"]);
    expect(res.err).toMatch(/warning: judge openai:cand is the same model as the candidate/);
    expect(f.cand.requests.length).toBe(candCalls);
    const bad = await run(["--judge", "openai:other", "--judge-base-url", judgeB.url, "--label", "cli-set"]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/already has a judgment set "cli-set"/);
    expect(cli(["rejudge", "--help"]).stdout).toMatch(/Examples:[\s\S]*medeval rejudge/);
  });
});
