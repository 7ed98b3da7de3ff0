// The interactive review driven as a person would: keys typed into an 80×24 tmux terminal, decisions checked in SQLite.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import Database from "better-sqlite3";
import { makeReviewRun, weighted, type ReviewRun } from "./reviewFixture.js";
import { projectPath } from "../src/util/paths.js";

const hasTmux = spawnSync("sh", ["-c", "command -v tmux"]).status === 0;
const socket = `medeval-test-${process.pid}`;

function tmux(...args: string[]): string {
  const r = spawnSync("tmux", ["-L", socket, ...args], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`tmux ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

const screen = () => tmux("capture-pane", "-p", "-t", "rv");

/** Waits until the screen shows `re` (a condition, not a timing assertion: it fails only if it never appears). */
async function waitFor(re: RegExp, limitMs = 30_000): Promise<string> {
  const until = Date.now() + limitMs;
  let s = "";
  while (Date.now() < until) {
    s = screen();
    if (re.test(s)) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the terminal never showed ${re}; it shows:\n${s}`);
}

function keys(...ks: string[]): void {
  for (const k of ks) {
    tmux("send-keys", "-t", "rv", "-l", k);
    tmux("send-keys", "-t", "rv", "Enter");
  }
}

function startSession(dbPath: string, runId: string): void {
  const cmd = `FORCE_COLOR=0 '${process.execPath}' '${projectPath("bin", "medeval")}' review ${runId} --db '${dbPath}' --reviewer A; echo __EXIT_$?__; sleep 600`;
  tmux("new-session", "-d", "-s", "rv", "-x", "80", "-y", "24", cmd);
}

let run: ReviewRun;
beforeAll(async () => {
  if (hasTmux) run = await makeReviewRun();
}, 60_000);
afterAll(async () => {
  if (!hasTmux) return;
  spawnSync("tmux", ["-L", socket, "kill-server"]);
  await run.close();
});

// Skipped only where tmux is not installed (CI installs it: see .ci/run).
describe.skipIf(!hasTmux)("interactive review in an 80×24 terminal (tmux; skipped only when tmux is not installed)", () => {
  it("accepts, goes back, overrides, skips, quits, and resumes at the next pending item; hostile text stays inert", async () => {
    const dbPath = run.copy();
    const db = new Database(dbPath, { readonly: true });
    const acts = () => db.prepare("SELECT case_id, reviewer, action, result, reasoning, approach, safety, rubric_json, score, comment, source FROM review_actions ORDER BY id").all() as Record<string, unknown>[];

    startSession(dbPath, run.runId);
    // Item 1 is the critical-safety case whose answer tries to clear the screen, set the title and smuggle a NUL.
    let s = await waitFor(/1\/(\d+) · T-CHOICE-1[\s\S]*\[a\]ccept judge/);
    const total = Number(/1\/(\d+) · T-CHOICE-1/.exec(s)![1]);
    expect(s).toContain("答案：B HOSTILE");
    expect(s).not.toContain("pwned");
    expect(s).not.toContain("judge-title");
    expect(tmux("display-message", "-p", "-t", "rv", "#{pane_title}")).not.toMatch(/pwned|judge-title/);
    expect(s.split("\n").every((l) => l.length <= 80)).toBe(true);

    keys("a");
    await waitFor(/2\/\d+ · T-OPEN-1/);
    expect(acts()).toEqual([expect.objectContaining({ case_id: "T-CHOICE-1", reviewer: "A", action: "accept", result: 8, safety: "critical", source: "terminal" })]);

    keys("b"); // back: item 1 again, showing the decision just saved
    s = await waitFor(/1\/\d+ · T-CHOICE-1[\s\S]*Reviews: A accept/);
    keys("a");
    await waitFor(/2\/\d+ · T-OPEN-1/);

    keys("o", "9", "", "7", "minor", "y", "y", "n", "胸痛处理不当");
    await waitFor(/3\/\d+ · T-NUM-1/);
    const ov = acts().at(-1)!;
    // Enter kept the judge's reasoning (2); the rest as typed.
    expect(ov).toMatchObject({ case_id: "T-OPEN-1", action: "override", result: 9, reasoning: 2, approach: 7, safety: "minor", comment: "胸痛处理不当" });
    expect(JSON.parse(ov.rubric_json as string)).toEqual({ r1: true, r2: true, r3: false });
    expect(ov.score as number).toBeCloseTo(weighted("open", { rubric: 1, result: 0.9, reasoning: 0.2, approach: 0.7 }), 10);

    keys("s");
    s = await waitFor(/4\/\d+ · (\S+)/);
    const fourth = /4\/\d+ · (\S+)/.exec(s)![1]!;
    expect(acts().at(-1)).toMatchObject({ case_id: "T-NUM-1", action: "skip" });

    keys("q");
    await waitFor(/__EXIT_0__/);
    expect(acts().map((a) => a.action)).toEqual(["accept", "accept", "override", "skip"]);

    // A new session resumes at the next pending item (the skipped one comes last), with two fewer items (accepted and overridden ones are done).
    tmux("kill-session", "-t", "rv");
    startSession(dbPath, run.runId);
    s = await waitFor(/1\/(\d+) · (\S+)/);
    const m = /1\/(\d+) · (\S+)/.exec(s)!;
    expect(m[2]).toBe(fourth);
    expect(Number(m[1])).toBe(total - 2);
    keys("q");
    await waitFor(/__EXIT_0__/);
    expect(acts()).toHaveLength(4);
    db.close();
  }, 120_000);
});
