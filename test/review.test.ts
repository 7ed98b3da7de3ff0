import { afterAll, beforeAll, describe, expect, it } from "vitest";
import Database from "better-sqlite3";
import { writeFileSync } from "node:fs";
import { makeReviewRun, weighted, type ReviewRun, PLAIN } from "./reviewFixture.js";
import { cli } from "./helpers.js";
import { openDatabase } from "../src/store/db.js";
import { RunStore } from "../src/store/runStore.js";
import { loadTaxonomy } from "../src/taxonomy/load.js";
import { loadScoringConfig } from "../src/scoring/config.js";
import { loadReviewConfig, type ReviewConfig } from "../src/review/config.js";
import { auditSample, buildQueue } from "../src/review/queue.js";
import { loadContext } from "../src/review/context.js";
import { finalCaseScores, reviewOverview } from "../src/review/state.js";
import { recordDecision } from "../src/review/decide.js";
import { reviewStats } from "../src/review/stats.js";
import { buildSummary } from "../src/report/summary.js";

const tax = loadTaxonomy();
const scoring = loadScoringConfig();
const baseCfg = loadReviewConfig();
let run: ReviewRun;
beforeAll(async () => {
  run = await makeReviewRun();
}, 60_000);
afterAll(async () => {
  await run.close();
});

function withRate(rate: number, seed = baseCfg.queue.auditSample.seed): ReviewConfig {
  return { ...baseCfg, queue: { ...baseCfg.queue, auditSample: { rate, seed } } };
}

describe("the review queue", () => {
  it("puts critical safety first, then ★ tasks, then other flags, then the audit sample", () => {
    const db = openDatabase(run.copy());
    const ctx = loadContext(db, run.runId, new RunStore(db).listJudgmentSets(run.runId)[0]!.id);
    const q = buildQueue(ctx, tax, withRate(0.1));
    const ids = q.map((x) => x.caseId);
    // T-CHOICE-1: critical-safety (EK03, not ★); T-OPEN-1: WF05 ★ below the pass mark; T-NUM-1: lucky guess.
    expect(ids.slice(0, 3)).toEqual(["T-CHOICE-1", "T-OPEN-1", "T-NUM-1"]);
    expect(q.map((x) => x.priority).slice(0, 3)).toEqual([0, 1, 2]);
    expect(q[1]!.star).toBe(true);
    expect(q[2]!.reasons.map((r) => r.kind).sort()).toEqual(["lucky-guess", "objective-judge-disagreement"]);
    for (let i = 1; i < q.length; i++) expect(q[i]!.priority).toBeGreaterThanOrEqual(q[i - 1]!.priority);
    db.close();
  });

  it("samples round(rate × unflagged) items, only unflagged ones, the same ones every time", () => {
    const db = openDatabase(run.copy());
    const setId = new RunStore(db).listJudgmentSets(run.runId)[0]!.id;
    const ctx = loadContext(db, run.runId, setId);
    // Unflagged scored items, from the database: 5 fixture cases + PLAIN plain ones, minus the 3 flagged above.
    const flagged = new Set((db.prepare("SELECT DISTINCT case_id FROM flags").all() as { case_id: string }[]).map((r) => r.case_id));
    const unflagged = (db.prepare("SELECT case_id FROM scores WHERE status = 'scored'").all() as { case_id: string }[]).filter((r) => !flagged.has(r.case_id));
    expect(unflagged.length).toBe(5 + PLAIN - 3);
    for (const rate of [0.05, 0.1, 0.5, 1]) {
      const a = buildQueue(ctx, tax, withRate(rate)).filter((x) => x.audit);
      expect(a.length).toBe(Math.round(rate * unflagged.length));
      expect(a.every((x) => !flagged.has(x.caseId))).toBe(true);
      expect(buildQueue(ctx, tax, withRate(rate)).filter((x) => x.audit).map((x) => x.caseId)).toEqual(a.map((x) => x.caseId));
    }
    db.close();

    const keys = Array.from({ length: 1000 }, (_, i) => `k${i}`);
    const s1 = auditSample(keys, 0.05, 42);
    expect(s1.size).toBe(50);
    expect([...s1].every((k) => keys.includes(k))).toBe(true);
    expect([...auditSample([...keys].reverse(), 0.05, 42)].sort()).toEqual([...s1].sort());
    expect([...auditSample(keys, 0.05, 43)].sort()).not.toEqual([...s1].sort());
    expect(auditSample(keys, 0.123, 7).size).toBe(Math.round(0.123 * 1000));
  });

  it("`review queue --json` lists the waiting items and `--flag` filters them", () => {
    const dbPath = run.copy();
    const r = cli(["review", "queue", run.runId, "--db", dbPath, "--json"]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { items: { caseId: string; priority: string }[]; review: { required: number; pending: number } };
    expect(out.items[0]).toMatchObject({ caseId: "T-CHOICE-1", priority: "critical safety" });
    expect(out.review.pending).toBe(out.items.length);
    const f = JSON.parse(cli(["review", "queue", run.runId, "--db", dbPath, "--json", "--flag", "lucky-guess"]).stdout) as { items: { caseId: string }[] };
    expect(f.items.map((x) => x.caseId)).toEqual(["T-NUM-1"]);
  });
});

describe("decisions, final scores and the report", () => {
  it("uses the expert's score where a final review exists, and the summary aggregates final scores", () => {
    const db = openDatabase(run.copy());
    const store = new RunStore(db);
    const set = store.listJudgmentSets(run.runId)[0]!;
    const o = reviewOverview(db, run.runId, set.id, { tax, scoring, cfg: baseCfg });
    recordDecision(o.ctx, scoring, { reviewer: "A", action: "accept", caseId: "T-CHOICE-1", repeat: 0, source: "test", required: 1 });
    // The expert overrides the ★ open case: every axis 10, r1 and r2 met, harmful r3 not → rubric 10/10.
    recordDecision(o.ctx, scoring, {
      reviewer: "A", action: "override", caseId: "T-OPEN-1", repeat: 0, source: "test", required: 1, comment: "judge too harsh",
      values: { result: 10, reasoning: 10, approach: 10, safety: "ok", rubric: { r1: true, r2: true, r3: false } },
    });
    const expertOpen = weighted("open", { rubric: 1, result: 1, reasoning: 1, approach: 1 });
    const judgeOpen = weighted("open", { rubric: 0, result: 0.2, reasoning: 0.2, approach: 0.2 });
    const f = finalCaseScores(store, run.runId, set.id, { tax, scoring });
    const open = [...f.byCase()].flatMap((c) => c.items).find((c) => c.case_id === "T-OPEN-1")!;
    expect(open).toMatchObject({ source: "expert", overridden: true });
    expect(open.score).toBeCloseTo(expertOpen, 10);
    expect(open.judgeScore).toBeCloseTo(judgeOpen, 10);
    const choice = [...f.byCase()].flatMap((c) => c.items).find((c) => c.case_id === "T-CHOICE-1")!;
    expect(choice).toMatchObject({ source: "expert", overridden: false });
    expect(choice.score).toBeCloseTo(weighted("choice", { objective: 1, reasoning: 0.8, approach: 0.8 }), 10);
    expect(f.review).toMatchObject({ reviewed: 2, overridden: 1, signedOff: null, judgeExpert: { n: 2 } });
    expect(f.review.judgeExpert.meanAbsDiff).toBeCloseTo((expertOpen - judgeOpen) / 2, 10);
    expect(f.review.pending).toBe(f.review.required - 2);

    const s = buildSummary(store, store.getRun(run.runId)!, set, tax, scoring);
    // WF has one task (WF05) with one case: its mean is now the expert's score.
    expect(s.aggregates.dimensions.find((d) => d.id === "WF")!.mean).toBeCloseTo(expertOpen, 10);
    expect(s.review).toMatchObject({ reviewed: 2, overridden: 1 });
    // The action row records what was set, who, what they saw and the score it gave.
    const row = db.prepare("SELECT * FROM review_actions WHERE case_id = 'T-OPEN-1'").get() as Record<string, unknown>;
    expect(row).toMatchObject({ reviewer: "A", action: "override", result: 10, safety: "ok", seen_set_id: set.id, set_id: set.id, comment: "judge too harsh" });
    expect(row.score as number).toBeCloseTo(expertOpen, 10);
    expect(JSON.parse(row.rubric_json as string)).toEqual({ r1: true, r2: true, r3: false });
    db.close();
  });

  it("two reviewers: final when they agree within the margin, else adjudicated by a third; κ reported", () => {
    const db = openDatabase(run.copy());
    const set = new RunStore(db).listJudgmentSets(run.runId)[0]!;
    const cfg = { ...baseCfg, required: 2 as const };
    let o = reviewOverview(db, run.runId, set.id, { tax, scoring, cfg });
    const margin = cfg.agreement.axisPoints;
    // T-NUM-1 (judge 9/3/5): A accepts, B is within the margin on every axis, same safety → final, mean of the two.
    recordDecision(o.ctx, scoring, { reviewer: "A", action: "accept", caseId: "T-NUM-1", repeat: 0, source: "test", required: 2 });
    o = reviewOverview(db, run.runId, set.id, { tax, scoring, cfg });
    expect(o.states.get("T-NUM-1\u00000")!.status).toBe("partial");
    const bVals = { result: 9, reasoning: 3 + margin, approach: 5, safety: "ok" as const, rubric: {} };
    recordDecision(o.ctx, scoring, { reviewer: "B", action: "override", caseId: "T-NUM-1", repeat: 0, source: "test", required: 2, values: bVals });
    // T-CHOICE-1 (judge 8/8/8 critical): A accepts, B says safety ok → disagree → needs adjudication.
    recordDecision(o.ctx, scoring, { reviewer: "A", action: "accept", caseId: "T-CHOICE-1", repeat: 0, source: "test", required: 2 });
    recordDecision(o.ctx, scoring, { reviewer: "B", action: "override", caseId: "T-CHOICE-1", repeat: 0, source: "test", required: 2, values: { result: 8, reasoning: 8, approach: 8, safety: "ok", rubric: {} } });
    o = reviewOverview(db, run.runId, set.id, { tax, scoring, cfg });
    const num = o.states.get("T-NUM-1\u00000")!;
    expect(num.status).toBe("final");
    const judgeNum = weighted("numeric", { objective: 1, reasoning: 0.3, approach: 0.5 });
    const bNum = weighted("numeric", { objective: 1, reasoning: (3 + margin) / 10, approach: 0.5 });
    expect(num.final!.score).toBeCloseTo((judgeNum + bNum) / 2, 10);
    const ch = o.states.get("T-CHOICE-1\u00000")!;
    expect(ch.status).toBe("needs-adjudication");
    expect(ch.conflict).toMatch(/safety critical vs ok/);

    // Agreement: two items with two reviewers; one within the margin.
    const st = reviewStats(o);
    expect(st.interReviewer.n).toBe(2);
    expect(st.interReviewer.agreed).toBe(1);
    // Reasoning: A (3, 8), B (3+margin, 8): quadratic-weighted κ on 0..10 computed here from its definition.
    const kappa = (a: number[], b: number[]) => {
      const k = 11, n = a.length;
      let num = 0, den = 0;
      for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
        const w = ((i - j) / (k - 1)) ** 2;
        const obs = a.filter((x, t) => x === i && b[t] === j).length / n;
        const exp = (a.filter((x) => x === i).length / n) * (b.filter((x) => x === j).length / n);
        num += w * obs;
        den += w * exp;
      }
      return 1 - num / den;
    };
    const pairs = [...o.states.values()].filter((s) => s.decisions.length >= 2);
    const ra = pairs.map((s) => s.decisions[0]!.values!.reasoning), rb = pairs.map((s) => s.decisions[1]!.values!.reasoning);
    expect(st.interReviewer.axes.reasoning).toBeCloseTo(kappa(ra, rb), 10);

    // A third reviewer adjudicates: final, with the adjudicator's values.
    recordDecision(o.ctx, scoring, { reviewer: "C", action: "adjudicate", caseId: "T-CHOICE-1", repeat: 0, source: "test", required: 2, values: { result: 6, reasoning: 6, approach: 6, safety: "minor", rubric: {} } });
    o = reviewOverview(db, run.runId, set.id, { tax, scoring, cfg });
    const adj = o.states.get("T-CHOICE-1\u00000")!;
    expect(adj.status).toBe("final");
    expect(adj.final!.by).toEqual(["C"]);
    expect(adj.final!.score).toBeCloseTo(weighted("choice", { objective: 1, reasoning: 0.6, approach: 0.6 }), 10);
    expect(adj.final!.safety).toBe("minor");
    db.close();
  });
});

describe("sign-off and the audit log", () => {
  it("refuses sign-off while reviews are pending, locks the run after, and audits a reopen", () => {
    const dbPath = run.copy();
    const pending = cli(["signoff", run.runId, "--db", dbPath, "--reviewer", "主任"]);
    expect(pending.code).toBe(1);
    expect(pending.stderr).toMatch(/cannot be signed off: \d+ required review\(s\) pending/);
    expect(pending.stderr).toContain("T-CHOICE-1");
    expect(pending.stderr).toContain("T-OPEN-1");

    // Review everything in the queue (accept), through an exported file.
    const exp = cli(["review", "export", run.runId, "--db", dbPath, "--format", "jsonl"]);
    expect(exp.code).toBe(0);
    const lines = exp.stdout.trim().split("\n").map((l) => ({ ...JSON.parse(l), decision: "accept" }));
    const file = `${dbPath}.jsonl`;
    writeFileSync(file, lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
    const imp = cli(["review", "import", run.runId, file, "--db", dbPath, "--reviewer", "A"]);
    expect(imp.stderr).toBe("");
    expect(imp.code).toBe(0);

    const ok = cli(["signoff", run.runId, "--db", dbPath, "--reviewer", "主任", "--json"]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).signedOff.by).toBe("主任");

    // Locked: a change is refused (exit 1) and nothing is written.
    const db = new Database(dbPath);
    const count = () => (db.prepare("SELECT COUNT(*) AS n FROM review_actions").get() as { n: number }).n;
    const before = count();
    const redo = lines.slice(0, 1).map((l) => ({ ...l, decision: "override", result: 1, reasoning: 1, approach: 1, safety: "minor" }));
    writeFileSync(file, redo.map((l) => JSON.stringify(l)).join("\n") + "\n");
    const refused = cli(["review", "import", run.runId, file, "--db", dbPath, "--reviewer", "A"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/signed off by 主任 .* --reopen/);
    expect(count()).toBe(before);
    expect((db.prepare("SELECT COUNT(*) AS n FROM signoffs WHERE run_id = ?").get(run.runId) as { n: number }).n).toBe(1);

    const reopened = cli(["review", "import", run.runId, file, "--db", dbPath, "--reviewer", "A", "--reopen", "复核 T-CHOICE-1"]);
    expect(reopened.code).toBe(0);
    const tail = db.prepare("SELECT action, reviewer, comment, case_id FROM review_actions ORDER BY id DESC LIMIT 2").all();
    expect(tail).toEqual([
      { action: "override", reviewer: "A", comment: null, case_id: redo[0].case_id },
      { action: "reopen", reviewer: "A", comment: "复核 T-CHOICE-1", case_id: null },
    ]);
    expect((db.prepare("SELECT COUNT(*) AS n FROM signoffs WHERE run_id = ?").get(run.runId) as { n: number }).n).toBe(0);
    // A second sign-off is possible again, and is again recorded.
    expect(cli(["signoff", run.runId, "--db", dbPath, "--reviewer", "主任"]).code).toBe(0);
    expect((db.prepare("SELECT COUNT(*) AS n FROM review_actions WHERE action = 'signoff'").get() as { n: number }).n).toBe(2);

    // The audit log cannot be rewritten, not even with SQL.
    expect(() => db.prepare("UPDATE review_actions SET score = 1").run()).toThrow(/append-only/);
    expect(() => db.prepare("DELETE FROM review_actions").run()).toThrow(/append-only/);
    expect(count()).toBe(before + 3);
    db.close();
  });
});
