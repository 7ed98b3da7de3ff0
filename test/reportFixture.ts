// Builds real run databases for the report, compare and gate tests: evaluate() against loopback fake servers whose
// answers and verdicts are fixed per fixture case, so every score can be worked out by hand from rubrics/scoring.json.
import { readFileSync } from "node:fs";
import path from "node:path";
import { startFakeServer, type ChatRequestBody, type FakeServer } from "../src/demo/fakeServer.js";
import { OpenAIAdapter } from "../src/adapters/openai.js";
import { evaluate } from "../src/runner/evaluate.js";
import { projectPath } from "../src/util/paths.js";

export const REPORT_CASES = projectPath("test", "fixtures", "report", "cases.jsonl");
export const scoringJson = JSON.parse(readFileSync(projectPath("rubrics", "scoring.json"), "utf8")) as {
  formats: Record<string, Record<string, number>>;
  passMark: number;
};

/** What the fake candidate answers and the fake judge decides for fixture case n (its text carries QTEXT-n-ZQ). */
export interface CasePlan {
  answer: string;
  reasoning?: string;
  /** Judge axes 0–10 (ignored for extraction, which has no judge). */
  axes?: [number, number, number];
  safety?: "ok" | "minor" | "critical";
  /** Rubric verdicts by item id; items not named are "not met". */
  met?: Record<string, boolean>;
  rationale?: string;
}
export type Plan = Record<number, CasePlan>;

export const HOSTILE_ANSWER = `<script>document.title='pwned-script'</script><img src=x onerror="document.title='pwned-img'"> " onmouseover="x" ANS-1-ZQ`;
export const HOSTILE_RATIONALE = `</pre></details><script>document.title='pwned-rationale'</script><b>JR-1-ZQ</b>`;
export const FORMULA_ANSWER = `=HYPERLINK("http://evil.example","ANS-6-ZQ")`;

/** Run A: a hostile answer with a critical safety verdict (case 1), a wrong choice (4), a formula-looking answer (6). */
export const PLAN_A: Plan = {
  1: { answer: HOSTILE_ANSWER, reasoning: "RSN-1-ZQ <svg onload=alert(1)>", axes: [3, 3, 3], safety: "critical", met: { r1: false, r2: true }, rationale: HOSTILE_RATIONALE },
  2: { answer: "ANS-2-ZQ 需患者书面授权，否则不能提供。", axes: [9, 9, 9], met: { r1: true }, rationale: "JR-2-ZQ 合规" },
  3: { answer: "ANS-3-ZQ 华法林用INR监测。\n答案：B", axes: [8, 8, 8], rationale: "JR-3-ZQ" },
  4: { answer: "ANS-4-ZQ 答案：A", axes: [4, 4, 4], rationale: "JR-4-ZQ" },
  5: { answer: "ANS-5-ZQ 72/1.7² = 24.9\n答案：24.9 kg/m²", axes: [8, 7, 7], rationale: "JR-5-ZQ" },
  6: { answer: FORMULA_ANSWER, axes: [5, 5, 5], met: { r1: true, r2: false }, rationale: "JR-6-ZQ" },
  7: { answer: "ANS-7-ZQ 急性缺血性脑卒中", axes: [8, 7, 7], met: { r1: true }, rationale: "JR-7-ZQ" },
  8: { answer: '{"症状":["咳嗽","发热"],"诊断":["急性支气管炎 REF-8-ZQ"]}' },
};

/**
 * Run B, a "new version": case 1 safe (same scores), case 2 much worse (pass → fail), case 4 right (fail → pass),
 * both DA01 cases one point better on every axis (the same delta for each: an interval that excludes zero).
 */
export const PLAN_B: Plan = {
  ...PLAN_A,
  1: { answer: "ANS-1-ZQ 抱歉，不能透露。", axes: [3, 3, 3], safety: "ok", met: { r1: false, r2: true }, rationale: "JR-1-ZQ" },
  2: { answer: "ANS-2-ZQ 可以直接提供。", axes: [2, 2, 2], met: { r1: false }, rationale: "JR-2-ZQ" },
  4: { answer: "ANS-4-ZQ 答案：C", axes: [8, 8, 8], rationale: "JR-4-ZQ" },
  6: { ...PLAN_A[6]!, axes: [6, 6, 6] },
  7: { ...PLAN_A[7]!, axes: [9, 8, 8] },
};

function caseNo(text: string): number {
  const m = /QTEXT-(\d+)-ZQ/.exec(text);
  return m ? Number(m[1]) : 0;
}

function judgeReply(body: ChatRequestBody, plan: Plan): string {
  const user = body.messages.map((m) => m.content).join("\n");
  const p = plan[caseNo(user)];
  const ids = [...user.matchAll(/^- \[(\w+)\] \(([+-]?\d+)\)/gm)].map((m) => m[1]!);
  const [res, rsn, appr] = p?.axes ?? [5, 5, 5];
  return JSON.stringify({
    rubric: ids.map((id) => ({ id, met: p?.met?.[id] ?? false, quote: "" })),
    result: { score: res, why: "R-WHY" },
    reasoning: { score: rsn, why: "RS-WHY" },
    approach: { score: appr, why: "AP-WHY" },
    safety: { verdict: p?.safety ?? "ok", why: p?.safety === "critical" ? "SAFETY-WHY-ZQ 泄露隐私" : "无风险" },
    rationale: p?.rationale ?? "—",
  });
}

/** Runs evaluate() once with the plan; returns the run id. Servers are closed before returning. */
export async function runPlan(plan: Plan, dbPath: string, reportDir: string, datasets: string[] = [REPORT_CASES]): Promise<string> {
  const servers: FakeServer[] = [];
  try {
    const cand = await startFakeServer((b) => {
      const p = plan[caseNo(b.messages.map((m) => m.content).join("\n"))];
      return p ? { content: p.answer, ...(p.reasoning ? { reasoning_content: p.reasoning } : {}) } : { content: "?" };
    });
    const judge = await startFakeServer((b) => ({ content: judgeReply(b, plan) }));
    servers.push(cand, judge);
    const r = await evaluate({
      datasets, filters: { profile: "general-llm" },
      candidate: new OpenAIAdapter({ kind: "openai", model: "cand-model", baseURL: cand.url, apiKeyEnv: "MEDEVAL_TEST_NO_KEY", timeoutMs: 10_000, maxRetries: 0 }),
      judge: new OpenAIAdapter({ kind: "openai", model: "judge-model", baseURL: judge.url, apiKeyEnv: "MEDEVAL_TEST_NO_KEY", timeoutMs: 10_000, maxRetries: 0, temperature: 0, seed: 1 }),
      dbPath, reportDir, concurrency: 4, quiet: true, cache: false,
    } as Parameters<typeof evaluate>[0]);
    return r.runId;
  } finally {
    await Promise.all(servers.map((s) => s.close()));
  }
}

// ---- expected scores, from the weights file (not from the code under test)

type Comps = Partial<Record<"objective" | "rubric" | "result" | "reasoning" | "approach", number>>;
export function weighted(format: string, comps: Comps): number {
  const ws = scoringJson.formats[format]!;
  let num = 0, den = 0;
  for (const [k, v] of Object.entries(comps)) if (ws[k]) { num += ws[k]! * v; den += ws[k]!; }
  return num / den;
}

const FORMAT: Record<number, string> = { 1: "open", 2: "open", 3: "choice", 4: "choice", 5: "numeric", 6: "open", 7: "open", 8: "extraction" };
/** Positive rubric points per case (negative items subtract when met). */
const RUBRIC: Record<number, Record<string, number>> = { 1: { r1: 5, r2: -5 }, 2: { r1: 5, r2: -5 }, 6: { r1: 5, r2: 3 }, 7: { r1: 5 } };
const CHOICE_GOLD: Record<number, string> = { 3: "B", 4: "C" };
export const CASE_IDS: Record<number, string> = { 1: "R-CE01-1", 2: "R-CE01-2", 3: "R-EK03-1", 4: "R-EK03-2", 5: "R-GA12-1", 6: "R-DA01-1", 7: "R-DA01-2", 8: "R-GA02-1" };
export const CASE_TASK: Record<number, string> = { 1: "CE01", 2: "CE01", 3: "EK03", 4: "EK03", 5: "GA12", 6: "DA01", 7: "DA01", 8: "GA02" };

export function expectedScore(plan: Plan, n: number): number {
  const p = plan[n]!;
  const f = FORMAT[n]!;
  if (f === "extraction") return 1; // the fixture answer extracts every gold field exactly
  const [r, s, a] = (p.axes ?? [5, 5, 5]).map((x) => x / 10) as [number, number, number];
  const axes = { result: r, reasoning: s, approach: a };
  if (f === "choice") return weighted(f, { objective: /答案：(\w)/.exec(p.answer)![1] === CHOICE_GOLD[n] ? 1 : 0, ...axes });
  if (f === "numeric") return weighted(f, { objective: 1, ...axes });
  const items = RUBRIC[n]!;
  const positive = Object.values(items).filter((x) => x > 0).reduce((x, y) => x + y, 0);
  const earned = Object.entries(items).filter(([id]) => p.met?.[id]).reduce((x, [, v]) => x + v, 0);
  return weighted(f, { rubric: Math.min(1, Math.max(0, earned / positive)), ...axes });
}

export function expectedTaskMeans(plan: Plan): Record<string, number> {
  const by: Record<string, number[]> = {};
  for (const n of Object.keys(CASE_IDS).map(Number)) (by[CASE_TASK[n]!] ??= []).push(expectedScore(plan, n));
  return Object.fromEntries(Object.entries(by).map(([t, xs]) => [t, xs.reduce((a, b) => a + b, 0) / xs.length]));
}

/** Dimension = mean of its task means; overall = mean of the dimensions (all weights are 1 in the taxonomy). */
export function expectedDims(plan: Plan): { dims: Record<string, number>; overall: number } {
  const t = expectedTaskMeans(plan);
  const dims = { CE: t.CE01!, EK: t.EK03!, GA: (t.GA12! + t.GA02!) / 2, DA: t.DA01! };
  const vals = Object.values(dims);
  return { dims, overall: vals.reduce((a, b) => a + b, 0) / vals.length };
}

/** Every string of the fixture cases' text (question, context, options, reference, key points, rubric criteria). */
export function caseTexts(): string[] {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === "string") out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  for (const line of readFileSync(REPORT_CASES, "utf8").split("\n").filter(Boolean)) {
    const c = JSON.parse(line) as { input?: unknown; reference?: unknown };
    walk(c.input);
    walk(c.reference);
  }
  return out;
}

export const dbIn = (dir: string, name = "r.sqlite") => path.join(dir, name);
