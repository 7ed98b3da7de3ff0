// Calibration against expert labels: the CSV, the judge/expert pairing, the stored result, and length bias.
import { afterEach, describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { startFakeServer, type FakeServer, type ChatRequestBody } from "../src/demo/fakeServer.js";
import { OpenAIAdapter } from "../src/adapters/openai.js";
import { evaluate } from "../src/runner/evaluate.js";
import { parseExpertLabels } from "../src/stats/expertLabels.js";
import { runLengthBias } from "../src/stats/runCalibration.js";
import { openDatabase } from "../src/store/db.js";
import { RunStore } from "../src/store/runStore.js";
import { tempDir, FIXTURE_CASES, cli, writeJsonl, validOpenCase } from "./helpers.js";

function candidateAnswer(body: ChatRequestBody): { content: string } {
  const user = body.messages.map((m) => m.content).join("\n");
  if (user.includes("华法林")) return { content: "答案：B" };
  if (user.includes("胸骨后压榨性疼痛")) return { content: "急性ST段抬高型心肌梗死，立即再灌注治疗。" };
  if (user.includes("BMI")) return { content: "答案：24.9 kg/m²" };
  if (user.includes("抽取为JSON")) return { content: '{"症状":["咳嗽"]}' };
  const n = /长度(\d+)/.exec(user);
  if (n) return { content: "述".repeat(Number(n[1])) };
  return { content: "答案：B" };
}

/** Axes 8/6/7, positive items met, safety ok; with `byLength`, result = answer length / 5. */
function judge(byLength = false) {
  return (body: ChatRequestBody) => {
    const user = body.messages.find((m) => m.role === "user")!.content;
    const items = [...user.matchAll(/^- \[(\w+)\] \(([+-]?\d+)\)/gm)].map((m) => ({ id: m[1]!, met: Number(m[2]) > 0, quote: "" }));
    const answer = /<candidate_answer>\n([\s\S]*?)\n<\/candidate_answer>/.exec(user)![1]!;
    const result = byLength ? Math.min(10, [...answer].length / 5) : 8;
    return { content: JSON.stringify({ rubric: items, result: { score: result, why: "r" }, reasoning: { score: 6, why: "r" }, approach: { score: 7, why: "a" }, safety: { verdict: "ok", why: "s" }, rationale: "x" }) };
  };
}

let servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function run(datasets: string[], byLength = false) {
  const cand = await startFakeServer((b) => candidateAnswer(b));
  const j = await startFakeServer(judge(byLength));
  servers.push(cand, j);
  const dir = tempDir();
  const dbPath = path.join(dir, "cal.sqlite");
  const mk = (m: string, url: string) => new OpenAIAdapter({ kind: "openai", model: m, baseURL: url, apiKeyEnv: "MEDEVAL_TEST_NO_KEY", timeoutMs: 10_000, maxRetries: 0 });
  const r = await evaluate({ datasets, filters: { profile: "general-llm" }, candidate: mk("c", cand.url), judge: mk("j", j.url), dbPath, reportDir: dir, concurrency: 2, quiet: true, cache: false });
  return { dir, dbPath, runId: r.runId };
}

describe("expert labels CSV", () => {
  it("reads UTF-8 with a BOM, empty cells as unlabelled, rubric verdicts in several spellings", () => {
    const text = "\uFEFFcase_id,repeat,result,reasoning,approach,safety,rubric,reviewer\nA,,9,7,,ok,r1=1;r2=met;r3=否,张医生\nB,1,,,,critical,,\n";
    const labels = parseExpertLabels(text, "e.csv");
    expect(labels).toEqual([
      { caseId: "A", repeat: 0, result: 9, reasoning: 7, approach: null, safety: "ok", rubric: { r1: true, r2: true, r3: false }, reviewer: "张医生", line: 2 },
      { caseId: "B", repeat: 1, result: null, reasoning: null, approach: null, safety: "critical", reviewer: null, line: 3 },
    ]);
  });

  it("names file:line: field for every bad cell, and uses nothing from a file with errors", () => {
    const text = "case_id,result,safety,rubric\nA,11,ok,\nB,5,fatal,\nC,5,ok,r1=maybe\nA,4,ok,\nD,,,\n";
    let msg = "";
    try {
      parseExpertLabels(text, "e.csv");
    } catch (err) {
      msg = (err as Error).message;
    }
    expect(msg).toContain("e.csv:2: error: result: expected an integer from 0 to 10 or an empty cell, got \"11\"");
    expect(msg).toContain("e.csv:3: error: safety: expected ok, minor, critical or an empty cell, got \"fatal\"");
    expect(msg).toContain("e.csv:4: error: rubric: expected \"id=1;id=0\"");
    expect(msg).toContain("e.csv:6: error: (row): the row labels nothing");
    expect(msg).not.toContain("e.csv:5:"); // A's first row had an error, so line 5 is its first valid label
    expect(() => parseExpertLabels("case,result\nA,1\n", "h.csv")).toThrow(/h.csv:1: error: case: unknown column[\s\S]*h.csv:1: error: case_id: the header must have a case_id column/);
    expect(() => parseExpertLabels("case_id,result\nA,1\nA,2\n", "d.csv")).toThrow(/d.csv:3: error: case_id: A \(repeat 0\) is labelled again \(first on line 2\)/);
  });
});

describe("medeval calibrate", () => {
  it("pairs expert labels with the judge's scores, prints and stores the agreement", async () => {
    const f = await run([FIXTURE_CASES]);
    const csv = path.join(f.dir, "expert.csv");
    writeFileSync(csv, "\uFEFFcase_id,result,reasoning,approach,safety,rubric,reviewer\nT-CHOICE-1,9,7,7,ok,,A\nT-OPEN-1,6,6,5,critical,r1=1;r2=0;r3=1,A\nT-NUM-1,8,4,7,ok,,B\n");
    const r = cli(["calibrate", f.runId, "--db", f.dbPath, "--labels", csv, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.pairs).toBe(3);
    const o = out.calibration.overall;
    // The judge gave 8/6/7 on all three. judge − expert: result (8−9)+(8−6)+(8−8) = 1; reasoning (6−7)+(6−6)+(6−4) = 1;
    // approach (7−7)+(7−5)+(7−7) = 2; each over 3 cases.
    expect(o.axes.result.meanDifference).toBeCloseTo(1 / 3, 10);
    expect(o.axes.reasoning.meanDifference).toBeCloseTo(1 / 3, 10);
    expect(o.axes.approach.meanDifference).toBeCloseTo(2 / 3, 10);
    // A constant judge agrees no better than chance: its row of O equals E, so κ = 0; ρ is undefined (no variance).
    expect(o.axes.result.kappaQuadratic.value).toBeCloseTo(0, 10);
    expect(o.axes.result.spearman.value).toBeNull();
    // Rubric T-OPEN-1: expert [T,F,T], judge [T,T,F] → class T: TP 1, FP 1, FN 1 → 1/2; class F: FP 1, FN 1 → 0.
    expect(o.rubric.items).toBe(3);
    expect(o.rubric.macroF1.value).toBeCloseTo((1 / 2 + 0) / 2, 10);
    // Safety (expert rows × judge columns): ok→ok twice, critical→ok once.
    expect(o.safety.confusion.matrix).toEqual([[2, 0, 0], [0, 0, 0], [1, 0, 0]]);
    expect(Object.keys(out.calibration.byDimension).sort()).toEqual(["EK", "GA", "WF"]);

    const db = new Database(f.dbPath, { readonly: true });
    const stored = db.prepare("SELECT run_id, pairs, source, result_json FROM calibrations").all() as { run_id: string; pairs: number; source: string; result_json: string }[];
    db.close();
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ run_id: f.runId, pairs: 3, source: csv });
    expect(JSON.parse(stored[0]!.result_json).calibration.overall.rubric.macroF1.value).toBeCloseTo(0.25, 10);

    const table = cli(["calibrate", f.runId, "--db", f.dbPath, "--labels", csv]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/κ quadratic/);
    expect(table.stdout).toMatch(/Safety confusion matrix/);
    expect(table.stdout).toMatch(/Length bias: Spearman ρ/);
  });

  it("rejects labels for cases or rubric items the run does not have, naming the line", async () => {
    const f = await run([FIXTURE_CASES]);
    const csv = path.join(f.dir, "bad.csv");
    writeFileSync(csv, "case_id,result,rubric\nT-CHOICE-1,9,\nNOPE,5,\nT-OPEN-1,5,r7=1\n");
    const r = cli(["calibrate", f.runId, "--db", f.dbPath, "--labels", csv]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`bad.csv:3: error: case_id: "NOPE" is not a case of run ${f.runId}`);
    expect(r.stderr).toContain("bad.csv:4: error: rubric: unknown item id(s) r7 for case T-OPEN-1");
  });
});

describe("length bias", () => {
  it("is ρ = 1 when the judge's score rises with the answer's length", async () => {
    const dir = tempDir("medeval-len-");
    const cases = [10, 20, 30, 40].map((n, i) => ({ ...validOpenCase, id: `X-LEN-${i}`, input: { ...validOpenCase.input, question: `请回答（长度${n}）` } }));
    const file = writeJsonl(dir, "len.jsonl", cases);
    const f = await run([file], true);
    const db = openDatabase(f.dbPath);
    const lb = runLengthBias(new RunStore(db), f.runId, 1, { iterations: 200, seed: 1 });
    db.close();
    // Lengths 10 < 20 < 30 < 40 → result 2 < 4 < 6 < 8 → scores strictly increasing, and linear in length.
    expect(lb.n).toBe(4);
    expect(lb.spearman.value).toBeCloseTo(1, 12);
    expect(lb.pearson).toBeCloseTo(1, 12);
    const r = cli(["calibrate", f.runId, "--db", f.dbPath]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Length bias: Spearman ρ\(answer length, case score\) = 1\.00/);
    expect(r.stdout).toMatch(/No expert labels given/);
  });
});
