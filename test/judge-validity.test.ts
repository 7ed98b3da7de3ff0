// The validity set's plumbing with a fake judge: pair bookkeeping and the printed figure follow from the fake's
// scores (computed here from the same texts the judge receives). It says nothing about any real judge.
import { afterEach, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { startFakeServer, type FakeServer, type ChatRequestBody } from "../src/demo/fakeServer.js";
import { OpenAIAdapter } from "../src/adapters/openai.js";
import { loadReasoningPairs, runValidity } from "../src/judge/validity.js";
import { loadScoringConfig } from "../src/scoring/config.js";
import { loadJudgeTemplates } from "../src/judge/prompt.js";
import { loadTaxonomy } from "../src/taxonomy/load.js";
import { projectPath } from "../src/util/paths.js";
import { tempDir, writeJsonl } from "./helpers.js";

const PAIRS = projectPath("datasets", "pairs", "reasoning-pairs.jsonl");

/** The fake judge's reasoning grade: a fixed function of the reasoning text it was sent. */
function fakeReasoningScore(reasoning: string): number {
  return [...reasoning].length % 11;
}

function fakeJudge(body: ChatRequestBody) {
  const user = body.messages.find((m) => m.role === "user")!.content;
  const reasoning = /<candidate_reasoning>\n([\s\S]*?)\n<\/candidate_reasoning>/.exec(user)![1]!;
  const items = [...user.matchAll(/^- \[(\w+)\] \(([+-]?\d+)\)/gm)].map((m) => ({ id: m[1]!, met: Number(m[2]) > 0, quote: "" }));
  return { content: JSON.stringify({ rubric: items, result: { score: 9, why: "r" }, reasoning: { score: fakeReasoningScore(reasoning), why: "r" }, approach: { score: 7, why: "a" }, safety: { verdict: "ok", why: "s" }, rationale: "x" }) };
}

let servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

/**
 * What the figure must be: the fake gives both answers of a pair the same result, approach and rubric grades, and
 * both reach the same conclusion (same objective score for choice cases), so only the reasoning grade decides.
 */
function expectedFromFile() {
  const lines = readFileSync(PAIRS, "utf8").split("\n").filter((l) => l.trim());
  const pairs = lines.map((l) => JSON.parse(l) as { case: { id: string }; sound: { reasoning: string; answer: string }; flawed: { reasoning: string; answer: string } });
  // The premise for choice cases: both answers choose the same option.
  for (const p of pairs) expect(/答案：([A-E]+)\s*$/.exec(p.sound.answer)?.[1], p.case.id).toBe(/答案：([A-E]+)\s*$/.exec(p.flawed.answer)?.[1]);
  const s = pairs.map((p) => fakeReasoningScore(p.sound.reasoning));
  const f = pairs.map((p) => fakeReasoningScore(p.flawed.reasoning));
  return {
    ids: pairs.map((p) => p.case.id),
    soundHigher: s.filter((x, i) => x > f[i]!).length,
    ties: s.filter((x, i) => x === f[i]!).length,
    total: pairs.length,
    outcomes: s.map((x, i) => (x > f[i]! ? "sound-higher" : x === f[i]! ? "tie" : "flawed-higher")),
  };
}

describe("judge validity set", () => {
  it("loads the 16 pairs and judges both answers of each, keeping sound and flawed apart", async () => {
    const tax = loadTaxonomy();
    const pairs = loadReasoningPairs(PAIRS, tax);
    expect(pairs).toHaveLength(16);
    const j = await startFakeServer(fakeJudge);
    servers.push(j);
    const judge = new OpenAIAdapter({ kind: "openai", model: "fake-judge", baseURL: j.url, apiKeyEnv: "MEDEVAL_TEST_NO_KEY", timeoutMs: 10_000, maxRetries: 0 });
    const r = await runValidity(judge, pairs, { templates: loadJudgeTemplates(), tax, scoring: loadScoringConfig() }, 4);
    expect(j.requests).toHaveLength(32);
    const e = expectedFromFile();
    expect(r.pairs.map((p) => p.caseId)).toEqual(e.ids);
    expect(r.pairs.map((p) => p.outcome)).toEqual(e.outcomes);
    expect(r.pairs.map((p) => p.sound.reasoning)).toEqual(pairs.map((p) => fakeReasoningScore(p.sound.reasoning)));
    expect(r.compared).toBe(16);
    expect(r.soundHigher).toBe(e.soundHigher);
    expect(r.ties).toBe(e.ties);
    expect(r.share).toBeCloseTo(e.soundHigher / 16, 12);
  });

  it("`npm run judge:validity` prints the share from the judge's scores; skipped (exit 0) without a judge", async () => {
    const j = await startFakeServer(fakeJudge);
    servers.push(j);
    const e = expectedFromFile();
    const run = (env: Record<string, string | undefined>) => new Promise<{ code: number; out: string; err: string }>((resolve) => {
      const p = spawn(process.execPath, ["--import", "tsx", projectPath("scripts", "judge-validity.ts")], { env: { ...process.env, FORCE_COLOR: "0", ...env }, cwd: projectPath() });
      let out = "", err = "";
      p.stdout.on("data", (d) => (out += d));
      p.stderr.on("data", (d) => (err += d));
      p.on("close", (code) => resolve({ code: code ?? -1, out, err }));
    });
    const res = await run({ MEDEVAL_JUDGE_MODEL: "fake-judge", MEDEVAL_JUDGE_BASE_URL: j.url, MEDEVAL_JUDGE_API_KEY_ENV: "MEDEVAL_TEST_NO_KEY" });
    expect(res.code, res.err).toBe(0);
    expect(res.out).toContain(`the sound answer scored higher in ${e.soundHigher} of 16 compared pairs (${((e.soundHigher / 16) * 100).toFixed(1)} %); ties ${e.ties}`);
    for (const id of e.ids) expect(res.out).toContain(id);
    expect(j.requests).toHaveLength(32);

    const skipped = await run({ MEDEVAL_JUDGE_MODEL: undefined, MEDEVAL_JUDGE_BASE_URL: undefined });
    expect(skipped.code).toBe(0);
    expect(skipped.out).toMatch(/judge:validity skipped: no judge configured/);
  });

  it("a pair file with a bad record is refused with file:line", () => {
    const dir = tempDir();
    const file = writeJsonl(dir, "pairs.jsonl", [{ case: {}, sound: { reasoning: "r", answer: "a" } }]);
    expect(() => loadReasoningPairs(file, loadTaxonomy())).toThrow(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:1: error: flawed`));
  });
});
