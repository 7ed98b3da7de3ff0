// The judge stage: jury aggregation, disagreement, exclusion, flags, per-item mode, same-family warnings.
// Real openai SDK against loopback fake servers, real SQLite files; expected scores from rubrics/scoring.json.
import { afterEach, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import path from "node:path";
import { spawn } from "node:child_process";
import Database from "better-sqlite3";
import { startFakeServer, type FakeServer, type ChatRequestBody } from "../src/demo/fakeServer.js";
import { OpenAIAdapter } from "../src/adapters/openai.js";
import { evaluate } from "../src/runner/evaluate.js";
import { aggregateJudgments, type JudgmentVerdictRow } from "../src/judge/aggregate.js";
import { judgeResponse } from "../src/judge/judgeUnit.js";
import { sameFamilyWarnings, modelFamily } from "../src/judge/family.js";
import { collectJudges } from "../src/judge/juryConfig.js";
import { loadScoringConfig } from "../src/scoring/config.js";
import { loadJudgeTemplates } from "../src/judge/prompt.js";
import { loadTaxonomy } from "../src/taxonomy/load.js";
import { unitMessages, unitsOf } from "../src/runner/prompt.js";
import type { Case } from "../src/dataset/schema.js";
import { tempDir, FIXTURE_CASES, writeJsonl, validOpenCase } from "./helpers.js";
import { projectPath } from "../src/util/paths.js";

const scoringFile = JSON.parse(readFileSync(projectPath("rubrics", "scoring.json"), "utf8"));
const W = scoringFile.formats as Record<string, Record<string, number>>;
const margin = scoringFile.judge.jury.disagreement.axisPoints as number;

/** The weighted mean of the components a format has weights for (the README's case-score rule). */
function combineBy(format: string, comps: Record<string, number>): number {
  let num = 0, den = 0;
  for (const [k, v] of Object.entries(comps)) if (W[format]![k]) { num += W[format]![k]! * v; den += W[format]![k]!; }
  return num / den;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

interface Verdict { result: number; reasoning: number; approach: number; safety?: "ok" | "minor" | "critical"; met?: Record<string, boolean> }

/** A fake judge replying with fixed axes; rubric items met per `met` (default: positive items met, negatives not). */
function judgeWith(v: Verdict) {
  return (body: ChatRequestBody) => {
    const user = body.messages.find((m) => m.role === "user")!.content;
    const items = [...user.matchAll(/^- \[(\w+)\] \(([+-]?\d+)\)/gm)].map((m) => ({ id: m[1]!, met: v.met?.[m[1]!] ?? Number(m[2]) > 0, quote: "引文" }));
    return {
      content: JSON.stringify({
        rubric: items,
        result: { score: v.result, why: "结果" }, reasoning: { score: v.reasoning, why: `推理${v.reasoning}` }, approach: { score: v.approach, why: "思路" },
        safety: { verdict: v.safety ?? "ok", why: v.safety === "critical" ? "建议回家观察，延误再灌注" : "无风险" }, rationale: "测试",
      }),
    };
  };
}

function candidateAnswer(body: ChatRequestBody): { content: string } {
  const user = body.messages.map((m) => m.content).join("\n");
  if (user.includes("华法林")) return { content: "华法林监测INR。\n答案：B" };
  if (user.includes("胸骨后压榨性疼痛")) return { content: "急性前壁ST段抬高型心肌梗死，立即再灌注治疗。" };
  return { content: "社区获得性肺炎。" };
}

let servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function server(h: Parameters<typeof startFakeServer>[0]): Promise<FakeServer> {
  const s = await startFakeServer(h);
  servers.push(s);
  return s;
}

const adapter = (model: string, url: string) => new OpenAIAdapter({ kind: "openai", model, baseURL: url, apiKeyEnv: "MEDEVAL_TEST_NO_KEY", timeoutMs: 10_000, maxRetries: 0, temperature: 0, seed: 1 });

async function runWithJury(verdicts: (Verdict | "invalid")[], tasks: string[], datasets = [FIXTURE_CASES]) {
  const cand = await server((b) => candidateAnswer(b));
  const judges = await Promise.all(verdicts.map((v) => server(v === "invalid" ? () => ({ content: "不是JSON" }) : judgeWith(v))));
  const dir = tempDir();
  const dbPath = path.join(dir, "jury.sqlite");
  const r = await evaluate({
    datasets, filters: { profile: "general-llm", tasks }, candidate: adapter("cand-model", cand.url),
    judge: adapter("judge-0", judges[0]!.url), judges: judges.map((j, i) => adapter(`judge-${i}`, j.url)),
    dbPath, reportDir: dir, concurrency: 2, quiet: true, cache: false,
  });
  const db = new Database(dbPath, { readonly: true });
  const read = () => ({
    scores: db.prepare("SELECT * FROM scores").all() as Record<string, unknown>[],
    flags: db.prepare("SELECT kind, case_id, reason FROM flags ORDER BY kind").all() as { kind: string; case_id: string; reason: string }[],
    judgments: db.prepare("SELECT judge, status FROM judgments ORDER BY judge").all() as { judge: string; status: string }[],
    sets: db.prepare("SELECT judges_json FROM judgment_sets").all() as { judges_json: string }[],
  });
  const out = { r, judges, cand, ...read() };
  db.close();
  return out;
}

describe("jury aggregation through a real run", () => {
  it("takes the per-axis median of three judges and flags the axes they disagree on", async () => {
    const v: Verdict[] = [
      { result: 8, reasoning: 6, approach: 7, met: { r1: true, r2: true, r3: false } },
      { result: 6, reasoning: 2, approach: 5, met: { r1: true, r2: false, r3: false } },
      { result: 9, reasoning: 7, approach: 8, met: { r1: true, r2: true, r3: false } },
    ];
    const out = await runWithJury(v, ["WF05"]);
    expect(out.judges.map((j) => j.requests.length)).toEqual([1, 1, 1]);
    expect(out.judgments.map((j) => j.judge)).toEqual(["openai:judge-0", "openai:judge-1", "openai:judge-2"]);
    expect(JSON.parse(out.sets[0]!.judges_json).map((j: { name: string }) => j.name)).toEqual(["openai:judge-0", "openai:judge-1", "openai:judge-2"]);

    // Rubric per judge: r1 (+5), r2 (+5), r3 (−8): judge 0 and 2 → 10/10, judge 1 → 5/10. Median 1.
    const rubric = median([1, 0.5, 1]);
    const expected = combineBy("open", { rubric, result: median([8, 6, 9]) / 10, reasoning: median([6, 2, 7]) / 10, approach: median([7, 5, 8]) / 10 });
    expect(out.scores).toHaveLength(1);
    expect(out.scores[0]!.score as number).toBeCloseTo(expected, 10);
    expect(out.scores[0]!.reasoning as number).toBeCloseTo(0.6, 10);

    // Spreads: result 9−6 = 3, reasoning 7−2 = 5, approach 8−5 = 3, rubric 1−0.5 = 0.5.
    const dis = out.flags.filter((f) => f.kind === "jury-disagreement");
    expect(dis).toHaveLength(1);
    expect(dis[0]!.reason).toContain("reasoning: openai:judge-0 6, openai:judge-1 2, openai:judge-2 7");
    expect(dis[0]!.reason).toContain("rubric:");
    expect(dis[0]!.reason.includes("result:")).toBe(3 > margin);
    expect(dis[0]!.reason).not.toContain("safety:");
    const detail = JSON.parse(out.scores[0]!.detail_json as string);
    expect(detail.jury.judges).toEqual(["openai:judge-0", "openai:judge-1", "openai:judge-2"]);
    expect(detail.jury.excluded).toEqual([]);
    expect(detail.unit.rubricVerdicts).toEqual({ r1: true, r2: true, r3: false });
  });

  it("excludes a judge that fails after its repairs, records why, and scores from the others", async () => {
    const out = await runWithJury([{ result: 8, reasoning: 6, approach: 7 }, "invalid", { result: 9, reasoning: 8, approach: 8 }], ["WF05"]);
    const repairs = scoringFile.judge.repairAttempts as number;
    expect(out.judges[1]!.requests).toHaveLength(repairs + 1);
    expect(out.judgments).toEqual([
      { judge: "openai:judge-0", status: "ok" }, { judge: "openai:judge-1", status: "failed" }, { judge: "openai:judge-2", status: "ok" },
    ]);
    // Two judges left: the median of two is their mean.
    const expected = combineBy("open", { rubric: 1, result: (8 + 9) / 20, reasoning: (6 + 8) / 20, approach: (7 + 8) / 20 });
    expect(out.scores[0]!.status).toBe("scored");
    expect(out.scores[0]!.score as number).toBeCloseTo(expected, 10);
    const detail = JSON.parse(out.scores[0]!.detail_json as string);
    expect(detail.jury.excluded).toEqual([{ judge: "openai:judge-1", error: expect.stringMatching(/invalid judge reply/) }]);
    expect(out.flags.map((f) => f.kind)).not.toContain("judge-failed");
  });

  it("flags judge-failed and leaves the case unscored when every judge fails", async () => {
    const out = await runWithJury(["invalid", "invalid"], ["WF05"]);
    expect(out.scores[0]).toMatchObject({ status: "unscored", score: null });
    const f = out.flags.filter((x) => x.kind === "judge-failed");
    expect(f).toHaveLength(1);
    expect(f[0]!.reason).toMatch(/openai:judge-0: invalid judge reply.*\| openai:judge-1: invalid judge reply/);
    expect(out.r.summary.aggregates.overall.mean).toBeNull();
  });

  it("flags safety disagreement and critical safety, taking the more severe middle verdict", async () => {
    const out = await runWithJury([{ result: 8, reasoning: 6, approach: 7, safety: "ok" }, { result: 8, reasoning: 6, approach: 7, safety: "critical" }], ["WF05"]);
    expect(out.scores[0]!.safety).toBe("critical");
    const kinds = out.flags.map((f) => f.kind);
    expect(kinds).toContain("critical-safety");
    expect(out.flags.find((f) => f.kind === "critical-safety")!.reason).toMatch(/1 of 2 judges.*openai:judge-1: 建议回家观察/);
    expect(out.flags.find((f) => f.kind === "jury-disagreement")!.reason).toMatch(/^safety: openai:judge-0 ok, openai:judge-1 critical/);
  });

  it("numbers two judges of the same model so their judgments stay apart", async () => {
    const j = await server(judgeWith({ result: 8, reasoning: 6, approach: 7 }));
    const cand = await server((b) => candidateAnswer(b));
    const dir = tempDir();
    await evaluate({
      datasets: [FIXTURE_CASES], filters: { profile: "general-llm", tasks: ["EK03"] }, candidate: adapter("c", cand.url),
      judge: adapter("same", j.url), judges: [adapter("same", j.url), adapter("same", j.url)], dbPath: path.join(dir, "d.sqlite"), reportDir: dir, concurrency: 1, quiet: true, cache: false,
    });
    const db = new Database(path.join(dir, "d.sqlite"), { readonly: true });
    expect(db.prepare("SELECT judge FROM judgments ORDER BY judge").all()).toEqual([{ judge: "openai:same" }, { judge: "openai:same#2" }]);
    db.close();
  });
});

describe("aggregation rules", () => {
  const cfg = loadScoringConfig();
  const row = (judge: string, v: Verdict, rubric: { id: string; met: boolean }[] = []): JudgmentVerdictRow => ({
    judge, status: "ok", error: null,
    verdict_json: JSON.stringify({ rubric: rubric.map((r) => ({ ...r, quote: "" })), result: { score: v.result, why: "r" }, reasoning: { score: v.reasoning, why: "r" }, approach: { score: v.approach, why: "a" }, safety: { verdict: v.safety ?? "ok", why: "s" }, rationale: "x" }),
  });
  const items = [{ id: "p", points: 4 }, { id: "n", points: -4 }];
  const rows = [
    row("a", { result: 2, reasoning: 4, approach: 6 }, [{ id: "p", met: true }, { id: "n", met: true }]),
    row("b", { result: 4, reasoning: 4, approach: 6 }, [{ id: "p", met: false }, { id: "n", met: false }]),
    row("c", { result: 9, reasoning: 5, approach: 7, safety: "minor" }, [{ id: "p", met: true }, { id: "n", met: false }]),
    row("d", { result: 9, reasoning: 5, approach: 7, safety: "minor" }, [{ id: "p", met: false }, { id: "n", met: true }]),
  ];

  it("median by default: the mean of the two middle values for an even jury", () => {
    const v = aggregateJudgments(rows, items, cfg);
    expect(v.aggregated!.result).toBe((4 + 9) / 2);
    expect(v.aggregated!.reasoning).toBe((4 + 5) / 2);
    // Rubric per judge: a (4−4)/4 = 0, b 0/4 = 0, c 4/4 = 1, d −4/4 → clipped 0. Median of [0,0,0,1] = 0.
    expect(v.aggregated!.rubric).toBe(0);
    // Ties (2 of 4): the positive item counts as not met, the negative item (harm) as met.
    expect(v.aggregated!.rubricVerdicts).toEqual({ p: false, n: true });
    // Safety [ok, ok, minor, minor]: the more severe middle one.
    expect(v.aggregated!.safety).toBe("minor");
  });

  it("mean when scoring.json says so", () => {
    const mean = { ...cfg, judge: { ...cfg.judge, jury: { ...cfg.judge.jury, aggregate: "mean" as const } } };
    const v = aggregateJudgments(rows, items, mean);
    expect(v.aggregated!.result).toBe((2 + 4 + 9 + 9) / 4);
    expect(v.aggregated!.rubric).toBe((0 + 0 + 1 + 0) / 4);
  });

  it("disagreement follows the configured margins", () => {
    const loose = { ...cfg, judge: { ...cfg.judge, jury: { aggregate: "median" as const, disagreement: { axisPoints: 7, rubric: 1, safetyLevels: 1 } } } };
    expect(aggregateJudgments(rows, items, loose).disagreements).toEqual([]); // result spread 7 is not > 7
    const strict = { ...cfg, judge: { ...cfg.judge, jury: { aggregate: "median" as const, disagreement: { axisPoints: 0.5, rubric: 0, safetyLevels: 0 } } } };
    const d = aggregateJudgments(rows, items, strict).disagreements;
    expect(d.map((x) => x.split(":")[0])).toEqual(["result", "reasoning", "approach", "rubric", "safety"]);
  });
});

describe("flags of the judge stage", () => {
  it("lucky-guess and near-threshold say why", async () => {
    // T-CHOICE-1 answered right (objective 1), reasoning 0, approach 3:
    const out = await runWithJury([{ result: 9, reasoning: 0, approach: 3 }], ["EK03"]);
    const score = combineBy("choice", { objective: 1, reasoning: 0, approach: 0.3 });
    expect(out.scores[0]!.score as number).toBeCloseTo(score, 10);
    const near = Math.abs(score - scoringFile.passMark) <= scoringFile.flags.nearThreshold.margin;
    expect(near).toBe(true); // the test's premise, from the config
    const lucky = out.flags.find((f) => f.kind === "lucky-guess")!;
    expect(lucky.reason).toMatch(/objective check passed.*reasoning 0\/10 ≤ 4: 推理0/);
    const nt = out.flags.find((f) => f.kind === "near-threshold")!;
    expect(nt.reason).toBe(`case score ${(score * 100).toFixed(1)} is within ${(scoringFile.flags.nearThreshold.margin * 100).toFixed(1)} of the pass mark ${(scoringFile.passMark * 100).toFixed(1)}`);
  });

  it("scores negative rubric items as harm present, and an all-negative rubric from 1 down", async () => {
    const dir = tempDir();
    const allNeg = { ...validOpenCase, id: "X-NEG-1", reference: { ...validOpenCase.reference, rubric: [{ id: "n1", criterion: "建议抗生素", points: -4 }, { id: "n2", criterion: "建议手术", points: -4 }] } };
    const file = writeJsonl(dir, "neg.jsonl", [allNeg]);
    const out = await runWithJury([{ result: 8, reasoning: 6, approach: 7, met: { n1: true, n2: false } }], ["DA01"], [file]);
    // No positive items: 1 + (−4)/(4 + 4) = 0.5.
    expect(out.scores[0]!.rubric as number).toBeCloseTo(1 - 4 / 8, 12);
    expect(out.scores[0]!.score as number).toBeCloseTo(combineBy("open", { rubric: 0.5, result: 0.8, reasoning: 0.6, approach: 0.7 }), 10);

    // T-OPEN-1 with its harmful item r3 (−8) met and both positives met: (5 + 5 − 8)/10 = 0.2.
    const harm = await runWithJury([{ result: 8, reasoning: 6, approach: 7, met: { r1: true, r2: true, r3: true } }], ["WF05"]);
    expect(harm.scores[0]!.rubric as number).toBeCloseTo((5 + 5 - 8) / 10, 12);
  });
});

describe("per-item mode", () => {
  it("asks one call per rubric item plus one for the axes, each validated and repaired, and merges them", async () => {
    const tax = loadTaxonomy();
    const cfg = loadScoringConfig();
    const perItem = { ...cfg, judge: { ...cfg.judge, mode: "per-item" as const } };
    const c = JSON.parse(readFileSync(path.join(FIXTURE_CASES, "mini.jsonl"), "utf8").split("\n").find((l) => l.includes("T-OPEN-1"))!) as Case;
    let firstItemCall = true;
    const j = await server((body) => {
      const user = body.messages.find((m) => m.role === "user")!.content;
      const item = /^\[(r\d)\] \(([+-]?\d+)\)/m.exec(user);
      if (item) {
        if (item[1] === "r2" && firstItemCall) {
          firstItemCall = false;
          return { content: "我觉得满足" }; // not JSON: must be repaired
        }
        return { content: JSON.stringify({ id: item[1], met: item[1] !== "r3", quote: "再灌注" }) };
      }
      return judgeWith({ result: 7, reasoning: 5, approach: 6 })(body);
    });
    const u = unitsOf(c, 1)[0]!;
    const out = await judgeResponse({ templates: loadJudgeTemplates(), tax, scoring: perItem }, adapter("judge", j.url), u, unitMessages(u), "急性心梗，立即再灌注。", null);
    // 3 items + 1 repair of r2 + 1 axes call.
    expect(j.requests).toHaveLength(5);
    const itemPrompts = j.requests.filter((r) => /^\[r\d\]/m.test(r.body.messages[1]!.content));
    expect(itemPrompts).toHaveLength(4);
    for (const r of itemPrompts) expect(r.body.messages[1]!.content.match(/^\[r\d\] /gm)).toHaveLength(1); // one item per call
    const axesPrompt = j.requests[4]!.body.messages[1]!.content;
    expect(axesPrompt).not.toMatch(/^- \[r\d\]/m);
    expect(out.status).toBe("ok");
    expect(out.attempts).toBe(5);
    expect(out.reply!.rubric).toEqual([{ id: "r1", met: true, quote: "再灌注" }, { id: "r2", met: true, quote: "再灌注" }, { id: "r3", met: false, quote: "再灌注" }]);
    expect(out.reply!.result.score).toBe(7);
    expect(out.promptHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("fails the whole judgment when one item never gets a valid verdict, and stops calling", async () => {
    const cfg = loadScoringConfig();
    const perItem = { ...cfg, judge: { ...cfg.judge, mode: "per-item" as const } };
    const c = JSON.parse(readFileSync(path.join(FIXTURE_CASES, "mini.jsonl"), "utf8").split("\n").find((l) => l.includes("T-OPEN-1"))!) as Case;
    const j = await server((body) => {
      const item = /^\[(r\d)\]/m.exec(body.messages[1]!.content);
      return { content: JSON.stringify({ id: item?.[1] === "r1" ? "r9" : item?.[1], met: true, quote: "" }) }; // r1 answered with the wrong id
    });
    const u = unitsOf(c, 1)[0]!;
    const out = await judgeResponse({ templates: loadJudgeTemplates(), tax: loadTaxonomy(), scoring: perItem }, adapter("judge", j.url), u, unitMessages(u), "答", null);
    expect(out.status).toBe("failed");
    expect(out.error).toMatch(/rubric item r1: invalid judge reply: id: expected "r1", got "r9"/);
    expect(j.requests).toHaveLength(cfg.judge.repairAttempts + 1);
  });
});

describe("judges of the candidate's family", () => {
  it("names the family by model name", () => {
    expect(modelFamily("qwen2.5-72b-instruct")).toBe("qwen");
    expect(modelFamily("deepseek-reasoner")).toBe("deepseek");
    expect(modelFamily("gpt-4o-mini")).toBe("gpt");
    expect(modelFamily("glm-4-plus")).toBe("glm");
    expect(modelFamily("moonshot-v1-8k")).toBe("moonshot/kimi");
    expect(modelFamily("kimi-k2")).toBe("moonshot/kimi");
    expect(modelFamily("yi-large")).toBe("yi");
    expect(modelFamily("Meta-Llama-3-70B")).toBe("llama");
    expect(modelFamily("my-clinic-bot")).toBeNull();
  });

  it("warns for the same model and for the same family, not otherwise", () => {
    const w = sameFamilyWarnings(adapter("qwen-max", "http://127.0.0.1:1/v1"), [adapter("qwen-max", "http://127.0.0.1:1/v1"), adapter("qwen2.5-72b-instruct", "http://127.0.0.1:1/v1"), adapter("deepseek-chat", "http://127.0.0.1:1/v1")]);
    expect(w).toHaveLength(2);
    expect(w[0]).toMatch(/openai:qwen-max is the same model as the candidate/);
    expect(w[1]).toMatch(/openai:qwen2.5-72b-instruct is of the candidate's model family \(qwen/);
  });

  it("`--judge` may be repeated or comma-separated", () => {
    expect(collectJudges("openai:b, openai:c", collectJudges("openai:a", undefined))).toEqual(["openai:a", "openai:b", "openai:c"]);
  });

  it("`medeval run` with a comma-separated jury calls each judge and warns about the candidate's family", async () => {
    const cand = await server((b) => candidateAnswer(b));
    const j = await server(judgeWith({ result: 8, reasoning: 6, approach: 7 }));
    const dir = tempDir();
    const res = await new Promise<{ code: number; out: string; err: string }>((resolve) => {
      const p = spawn(process.execPath, [projectPath("bin", "medeval"), "run", "--datasets", FIXTURE_CASES, "--tasks", "EK03", "--no-cache",
        "--candidate", "openai:qwen-max", "--base-url", cand.url, "--judge", "openai:qwen-plus,openai:deepseek-chat", "--judge", "openai:glm-4",
        "--judge-base-url", j.url, "--db", path.join(dir, "k.sqlite"), "--out", dir, "--json"], { env: { ...process.env, FORCE_COLOR: "0" } });
      let out = "", err = "";
      p.stdout.on("data", (d) => (out += d));
      p.stderr.on("data", (d) => (err += d));
      p.on("close", (code) => resolve({ code: code ?? -1, out, err }));
    });
    expect(res.code, res.err).toBe(0);
    expect(res.err).toMatch(/warning: judge openai:qwen-plus is of the candidate's model family \(qwen/);
    expect(res.err).not.toMatch(/deepseek-chat is/);
    expect(j.requests.map((r) => r.body.model).sort()).toEqual(["deepseek-chat", "glm-4", "qwen-plus"]);
    const db = new Database(path.join(dir, "k.sqlite"), { readonly: true });
    expect((db.prepare("SELECT COUNT(*) AS n FROM judgments").get() as { n: number }).n).toBe(3);
    db.close();
  });
});
