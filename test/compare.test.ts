import { beforeAll, describe, expect, it } from "vitest";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { cli, tempDir } from "./helpers.js";
import { runPlan, PLAN_A, PLAN_B, CASE_IDS, CASE_TASK, expectedScore, expectedTaskMeans, expectedDims, scoringJson, dbIn, REPORT_CASES } from "./reportFixture.js";
import { openDatabase } from "../src/store/db.js";
import { RunStore } from "../src/store/runStore.js";
import { scoreRun } from "../src/scoring/stage.js";
import { loadTaxonomy } from "../src/taxonomy/load.js";
import { loadScoringConfig } from "../src/scoring/config.js";
import type { JudgeReply } from "../src/judge/schema.js";
import type { Comparison } from "../src/report/compare.js";

let dir: string;
let db1: string;
let db2: string;
let runA: string;
let runB: string;
let runB2: string;
let runC: string;

const NS = Object.keys(CASE_IDS).map(Number);
const REASONING_DROP = 2; // the "strict" judge set: every reasoning axis 2 points lower

beforeAll(async () => {
  dir = tempDir("medeval-compare-");
  db1 = dbIn(dir, "one.sqlite");
  db2 = dbIn(dir, "two.sqlite");
  runA = await runPlan(PLAN_A, db1, dir);
  runB = await runPlan(PLAN_B, db1, dir);
  runB2 = await runPlan(PLAN_B, db2, dir);
  // A dataset where case R-EK03-1 kept its id but changed its text: it must be left out of every delta.
  const changed = path.join(dir, "changed.jsonl");
  writeFileSync(changed, readFileSync(REPORT_CASES, "utf8").replace("监测抗凝强度最常用的指标是", "监测抗凝强度最常用的实验室指标是"));
  runC = await runPlan(PLAN_B, db1, dir, [changed]);

  // A second judgment set on run A, through the store: same verdicts but reasoning − 2, then the real scoring stage.
  const db = openDatabase(db1);
  try {
    const store = new RunStore(db);
    const sets = store.listJudgmentSets(runA);
    const base = sets.find((s) => s.label === "default")!;
    const strict = store.ensureJudgmentSet(runA, "strict", base.judges_json, base.prompt_version, base.prompt_hash);
    for (const j of store.listJudgments(base.id)) {
      const reply = JSON.parse(j.verdict_json!) as JudgeReply;
      reply.reasoning.score -= REASONING_DROP;
      const { id: _id, created_at: _c, ...rest } = j;
      store.saveJudgment({ ...rest, set_id: strict, reasoning: reply.reasoning.score, verdict_json: JSON.stringify(reply) });
    }
    scoreRun(store, runA, strict, loadTaxonomy(), loadScoringConfig());
  } finally {
    db.close();
  }
});

function compare(args: string[]): Comparison {
  const r = cli(["compare", ...args, "--json"]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Comparison;
}

function checkAgainstPlans(c: Comparison) {
  const ta = expectedTaskMeans(PLAN_A);
  const tb = expectedTaskMeans(PLAN_B);
  for (const t of Object.keys(ta)) {
    const d = c.tasks.find((x) => x.id === t)!;
    expect(d.delta, t).toBeCloseTo(tb[t]! - ta[t]!, 10);
    expect(d.lo <= d.delta + 1e-12 && d.delta <= d.hi + 1e-12, t).toBe(true);
  }
  const da = expectedDims(PLAN_A);
  const dbb = expectedDims(PLAN_B);
  for (const d of Object.keys(da.dims)) expect(c.dimensions.find((x) => x.id === d)!.delta, d).toBeCloseTo(dbb.dims[d]! - da.dims[d]!, 10);
  expect(c.overall!.delta).toBeCloseTo(dbb.overall - da.overall, 10);
}

describe("medeval compare", () => {
  it("per-task, per-dimension and overall deltas over shared cases, with paired bootstrap intervals", () => {
    const c = compare([runA, runB, "--db", db1, "--set-a", "default"]);
    expect(c.shared).toBe(NS.length);
    checkAgainstPlans(c);
    // DA01: both cases gained exactly the same amount, so every paired resample gives that delta: significant.
    const da01 = c.tasks.find((t) => t.id === "DA01")!;
    const gain = expectedScore(PLAN_B, 6) - expectedScore(PLAN_A, 6);
    expect(expectedScore(PLAN_B, 7) - expectedScore(PLAN_A, 7)).toBeCloseTo(gain, 12);
    expect(da01.lo).toBeCloseTo(gain, 10);
    expect(da01.hi).toBeCloseTo(gain, 10);
    expect(da01.significant).toBe(true);
    expect(c.dimensions.find((d) => d.id === "DA")!.significant).toBe(true);
    // EK03: one case unchanged, one much better. A resample of only the unchanged case gives 0 (chance 1/4 ≫ 2.5 %),
    // so the interval reaches zero: a large raw delta that is not marked.
    const ek03 = c.tasks.find((t) => t.id === "EK03")!;
    expect(ek03.delta).toBeGreaterThan(0.3);
    expect(ek03.lo).toBeCloseTo(0, 12);
    expect(ek03.significant).toBe(false);
    // Unchanged tasks: zero, not significant.
    for (const t of ["GA12", "GA02"]) expect(c.tasks.find((x) => x.id === t)).toMatchObject({ delta: 0, lo: 0, hi: 0, significant: false });
  });

  it("lists the cases that flipped across the pass mark", () => {
    const c = compare([runA, runB, "--db", db1, "--set-a", "default"]);
    const pm = scoringJson.passMark;
    const expected = NS.filter((n) => (expectedScore(PLAN_A, n) >= pm) !== (expectedScore(PLAN_B, n) >= pm))
      .map((n) => ({ caseId: CASE_IDS[n]!, task: CASE_TASK[n]!, direction: expectedScore(PLAN_A, n) >= pm ? "pass→fail" : "fail→pass" }));
    expect(expected.length).toBeGreaterThanOrEqual(2);
    expect(c.flips.map((f) => ({ caseId: f.caseId, task: f.task, direction: f.direction })))
      .toEqual(expect.arrayContaining(expected));
    expect(c.flips).toHaveLength(expected.length);
    expect(c.flips[0]!.direction).toBe("pass→fail"); // regressions listed first
    expect(c.flips.find((f) => f.caseId === "R-CE01-2")).toMatchObject({ direction: "pass→fail" });
  });

  it("is reproducible (seeded) and the same across two databases (--db-b)", () => {
    const one = compare([runA, runB, "--db", db1, "--set-a", "default"]);
    const two = compare([runA, runB2, "--db", db1, "--db-b", db2, "--set-a", "default"]);
    const strip = (c: Comparison) => ({ ...c, b: null });
    expect(strip(two)).toEqual(strip(one));
    expect(two.b.runId).toBe(runB2);
  });

  it("compares two judgment sets of one run (--set-a/--set-b)", () => {
    const c = compare([runA, runA, "--db", db1, "--set-a", "default", "--set-b", "strict"]);
    expect(c.a.set).toBe("default");
    expect(c.b.set).toBe("strict");
    // Reasoning is one weighted component of every judged format; extraction has no judge.
    const w = scoringJson.formats;
    const drop = (f: string) => -(REASONING_DROP / 10) * w[f]!.reasoning! / Object.values(w[f]!).reduce((a, b) => a + b, 0);
    const exp: Record<string, number> = { CE01: drop("open"), EK03: drop("choice"), GA12: drop("numeric"), GA02: 0, DA01: drop("open") };
    for (const [t, v] of Object.entries(exp)) expect(c.tasks.find((x) => x.id === t)!.delta, t).toBeCloseTo(v, 10);
    const dims = { CE: exp.CE01!, EK: exp.EK03!, GA: (exp.GA12! + exp.GA02!) / 2, DA: exp.DA01! };
    for (const [d, v] of Object.entries(dims)) expect(c.dimensions.find((x) => x.id === d)!.delta, d).toBeCloseTo(v, 10);
    expect(c.overall!.delta).toBeCloseTo(Object.values(dims).reduce((a, b) => a + b, 0) / 4, 10);
    // Every case moved by the same amount within each judged task: all those intervals exclude zero.
    for (const t of ["CE01", "EK03", "DA01"]) expect(c.tasks.find((x) => x.id === t)!.significant, t).toBe(true);
    // GA12 has one case: its interval collapses onto the delta, which proves nothing, so it is not marked.
    expect(c.tasks.find((x) => x.id === "GA12")).toMatchObject({ n: 1, significant: false });
    expect(c.tasks.find((x) => x.id === "GA12")!.lo).toBeCloseTo(exp.GA12!, 12);
    // Without --set-a a run is read through its latest judgment set.
    expect(compare([runA, runB, "--db", db1]).a.set).toBe("strict");
  });

  it("leaves out a case whose content changed under the same id", () => {
    const c = compare([runA, runC, "--db", db1, "--set-a", "default"]);
    expect(c.changedContent).toEqual(["R-EK03-1"]);
    expect(c.shared).toBe(NS.length - 1);
    expect(c.tasks.find((t) => t.id === "EK03")).toMatchObject({ n: 1 });
    expect(c.tasks.find((t) => t.id === "EK03")!.delta).toBeCloseTo(expectedScore(PLAN_B, 4) - expectedScore(PLAN_A, 4), 10);
  });

  it("terminal and Markdown output mark significant changes and list flips", () => {
    const t = cli(["compare", runA, runB, "--db", db1, "--set-a", "default"]);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/DA01\s+初步诊断.*▲/);
    expect(t.stdout).not.toMatch(/EK03\s+\S+.*▲/);
    expect(t.stdout).toMatch(/set default\), B = run .* \(set default\)/);
    expect(t.stdout).toMatch(/pass → fail .*R-CE01-2/);
    const md = cli(["compare", runA, runB, "--db", db1, "--set-a", "default", "--format", "md"]);
    expect(md.code).toBe(0);
    expect(md.stdout).toContain("| R-CE01-2 | CE01 |");
    expect(md.stdout).toMatch(/\| DA01 初步诊断 \|.*\| ▲ \|/);
  });

  it("bad input exits 2 with a clear message", () => {
    expect(cli(["compare", runA, "r-nope", "--db", db1])).toMatchObject({ code: 2, stderr: expect.stringMatching(/no run "r-nope"/) });
    expect(cli(["compare", runA, runB, "--db", db1, "--set-b", "nope"])).toMatchObject({ code: 2, stderr: expect.stringMatching(/no judgment set "nope"/) });
    expect(cli(["compare", runA, runB, "--db", path.join(dir, "missing.sqlite")])).toMatchObject({ code: 2, stderr: expect.stringMatching(/cannot open the database/) });
    expect(cli(["compare", runA, runB, "--db", db1, "--format", "xml"])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--format/) });
    expect(cli(["compare", runA])).toMatchObject({ code: 2 });
  });
});
