import { beforeAll, describe, expect, it } from "vitest";
import { copyFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { cli, tempDir } from "./helpers.js";
import { runPlan, PLAN_A, PLAN_B, expectedDims, expectedTaskMeans, dbIn } from "./reportFixture.js";
import { openDatabase } from "../src/store/db.js";
import { RunStore } from "../src/store/runStore.js";
import { appendAction } from "../src/review/actions.js";
import type { GateResult } from "../src/gate/evaluate.js";
import type { InternalReport } from "../src/report/json.js";

let dir: string;
let db: string;
let runA: string;
let runB: string;
let n = 0;

beforeAll(async () => {
  dir = tempDir("medeval-gate-");
  db = dbIn(dir);
  runA = await runPlan(PLAN_A, db, dir); // has a critical safety finding
  runB = await runPlan(PLAN_B, db, dir); // none; DA01 one point better on every axis than A
});

function policy(p: unknown): string {
  const file = path.join(dir, `policy-${n++}.json`);
  writeFileSync(file, typeof p === "string" ? p : JSON.stringify(p));
  return file;
}

function gate(run: string, p: unknown, extra: string[] = [], dbFile = db) {
  return cli(["gate", run, "--db", dbFile, "--policy", policy(p), ...extra]);
}

function gateJson(run: string, p: unknown, extra: string[] = []): { code: number; result: GateResult } {
  const r = gate(run, p, [...extra, "--json"]);
  expect(r.stderr).toBe("");
  return { code: r.code, result: JSON.parse(r.stdout) as GateResult };
}

const B = expectedDims(PLAN_B);
const tasksB = expectedTaskMeans(PLAN_B);
const minDimB = Math.min(...Object.values(B.dims));
const minTaskB = Math.min(...Object.values(tasksB));

describe("medeval gate", () => {
  it("passes (exit 0) when every check holds", () => {
    const r = gate(runB, { minOverall: B.overall - 0.01, minDimension: { "*": minDimB - 0.01 }, minTask: { "*": minTaskB - 0.01 } });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("gate passed");
    expect(r.stdout).toContain("PASS  no critical safety finding");
    expect(r.stdout).not.toContain("FAIL");
  });

  it("fails (exit 1) below the minimum overall score", () => {
    const { code, result } = gateJson(runB, { minOverall: B.overall + 0.01 });
    expect(code).toBe(1);
    expect(result.passed).toBe(false);
    expect(result.checks.find((c) => c.kind === "min-overall")).toMatchObject({ passed: false, message: expect.stringContaining(`overall ${(B.overall * 100).toFixed(1)} <`) });
  });

  it("fails below a dimension minimum, naming the dimension", () => {
    const { code, result } = gateJson(runB, { minDimension: { DA: B.dims.DA! + 0.01, EK: B.dims.EK! - 0.01 } });
    expect(code).toBe(1);
    expect(result.reasons).toHaveLength(1);
    expect(result.reasons[0]).toMatch(/^dimension DA Decision accuracy [\d.]+ < required/);
    expect(result.checks.find((c) => c.subject === "EK")!.passed).toBe(true);
  });

  it("fails below a task minimum, and when a required task is not in the run", () => {
    const { code, result } = gateJson(runB, { minTask: { GA12: 0.9, QC01: 0.5 } });
    expect(tasksB.GA12!).toBeLessThan(0.9);
    expect(code).toBe(1);
    expect(result.reasons).toEqual(expect.arrayContaining([
      expect.stringMatching(/^task QC01: not in this run/),
      expect.stringMatching(/^task GA12 Medical calculation 85\.0 < required 90\.0/),
    ]));
  });

  it("fails on a critical safety finding by default, whatever the averages; the check can be turned off", () => {
    const r = gate(runA, {});
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL {2}1 critical safety finding\(s\): R-CE01-1 \(CE01\)/);
    expect(r.stdout).toMatch(/gate FAILED: run .*, 1 reason\(s\):\n {2}- 1 critical safety finding/);
    expect(gate(runA, { zeroCriticalSafety: false }).code).toBe(0);
  });

  it("fails on a regression whose whole paired interval is beyond the allowed drop", () => {
    // A against baseline B: DA dropped by the same amount in both cases, so the interval is that single value.
    const drop = expectedDims(PLAN_A).dims.DA! - B.dims.DA!;
    expect(drop).toBeLessThan(-0.05);
    const fail = gateJson(runA, { zeroCriticalSafety: false, maxRegression: { DA: 0.01 } }, ["--baseline", runB]);
    expect(fail.code).toBe(1);
    expect(fail.result.baselineRunId).toBe(runB);
    expect(fail.result.reasons[0]).toMatch(/^dimension DA vs baseline: Δ −[\d.]+ .*whole interval below −1\.0/);
    expect(gateJson(runA, { zeroCriticalSafety: false, maxRegression: { DA: -drop + 0.01 } }, ["--baseline", runB]).code).toBe(0);
  });

  it("judges regression on the interval, not the raw delta", () => {
    // EK dropped a lot on average (one case of two), but the paired interval reaches zero: not a proven regression.
    const rawDrop = expectedDims(PLAN_A).dims.EK! - B.dims.EK!;
    expect(rawDrop).toBeLessThan(-0.3);
    const { code, result } = gateJson(runA, { zeroCriticalSafety: false, maxRegression: { EK: 0 } }, ["--baseline", runB]);
    expect(code).toBe(0);
    expect(result.checks.filter((c) => c.kind === "regression")).toEqual([expect.objectContaining({ subject: "EK", passed: true })]);
  });

  it("unreviewed flags block when the policy says so, and stop blocking once experts have reviewed them", () => {
    const blocked = gateJson(runB, { unreviewedFlagsBlock: true });
    expect(blocked.code).toBe(1);
    expect(blocked.result.reasons[0]).toMatch(/flag\(s\) on \d+ case\(s\) await expert review/);
    // A copy of the database where an expert accepted every flagged case (through the review feature's audit log).
    const copy = dbIn(dir, "reviewed.sqlite");
    copyFileSync(db, copy);
    const h = openDatabase(copy);
    try {
      const store = new RunStore(h);
      const set = store.listJudgmentSets(runB)[0]!;
      const flagged = new Map(store.listFlags(runB, set.id).map((f) => [`${f.case_id}/${f.repeat}`, f]));
      expect(flagged.size).toBeGreaterThan(0);
      for (const f of flagged.values()) appendAction(h, { run_id: runB, set_id: set.id, case_id: f.case_id, repeat: f.repeat, reviewer: "dr-li", action: "accept", source: "test" });
      appendAction(h, { run_id: runB, set_id: set.id, reviewer: "dr-wang", action: "signoff", source: "test" });
    } finally {
      h.close();
    }
    const r = gate(runB, { unreviewedFlagsBlock: true }, ["--json"], copy);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as GateResult).checks.find((c) => c.kind === "unreviewed-flags")!.message).toBe("every flag has been reviewed");
    // The reports show the same review state and the sign-off.
    const rep = JSON.parse(cli(["report", runB, "--db", copy, "--format", "json"]).stdout) as InternalReport;
    expect(rep.review).toMatchObject({ source: "reviews-table", unreviewedCases: 0, signOff: { by: "dr-wang" } });
    expect(rep.review.reviewedCases).toBe(rep.review.flaggedCases);
    expect(rep.findings.every((f) => f.reviewState === "reviewed")).toBe(true);
  });

  it("fails on a run that did not complete", () => {
    const copy = dbIn(dir, "interrupted.sqlite");
    copyFileSync(db, copy);
    const h = openDatabase(copy);
    try {
      new RunStore(h).setRunStatus(runB, "interrupted");
    } finally {
      h.close();
    }
    const r = gate(runB, {}, [], copy);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/- run status is interrupted, not completed/);
  });

  it("prints every reason when several checks fail", () => {
    const r = gate(runA, { minOverall: 0.99, minDimension: { CE: 0.99 }, minTask: { EK03: 0.99 }, unreviewedFlagsBlock: true });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/5 reason\(s\)/);
    for (const re of [/- overall /, /- dimension CE /, /- task EK03 /, /- 1 critical safety finding/, /- \d+ flag\(s\) on/]) expect(r.stdout).toMatch(re);
  });

  describe("tool and input errors exit 2", () => {
    it.each([
      ["a missing policy file", () => cli(["gate", runB, "--db", db, "--policy", path.join(dir, "nope.json")]), /nope\.json: cannot read the gate policy/],
      ["a policy that is not JSON", () => gate(runB, "{ minOverall: 0.7 "), /policy-\d+\.json: the gate policy is not valid JSON/],
      ["a score given in percent", () => gate(runB, { minOverall: 70 }), /invalid gate policy\n {2}minOverall: .*score from 0 to 1/],
      ["a misspelt field", () => gate(runB, { minOveral: 0.7 }), /invalid gate policy\n.*minOveral/],
      ["an unknown dimension", () => gate(runB, { minDimension: { XX: 0.5 } }), /minDimension\.XX: unknown dimension \(expected one of CE, EK, GA, QC, WF, DA or "\*"\)/],
      ["an unknown task", () => gate(runB, { minTask: { DA99: 0.5 } }), /minTask\.DA99: unknown task id/],
      ["a wrong type", () => gate(runB, { zeroCriticalSafety: "yes" }), /zeroCriticalSafety: .*boolean/],
      ["maxRegression without a baseline", () => gate(runB, { maxRegression: { "*": 0.05 } }), /sets maxRegression but no baseline was given/],
      ["an unknown run", () => gate("r-missing", {}), /no run "r-missing"/],
      ["an unknown baseline", () => gate(runB, {}, ["--baseline", "r-missing"]), /no run "r-missing"/],
      ["the run as its own baseline", () => gate(runB, {}, ["--baseline", runB]), /the baseline is the run being gated/],
      ["a missing database", () => gate(runB, {}, [], path.join(dir, "none.sqlite")), /cannot open the database/],
      ["no --policy", () => cli(["gate", runB, "--db", db]), /required option '--policy <file>'/],
    ])("%s", (_name, run, message) => {
      const r = run();
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
    });
  });
});
