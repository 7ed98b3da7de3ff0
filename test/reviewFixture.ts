// A real run for the review tests: fixture cases plus plain choice cases, answered and judged through the openai SDK
// against loopback fake servers, stored in a real SQLite file. Each test gets its own copy of the database.
import { copyFileSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { startFakeServer, type ChatRequestBody, type FakeServer } from "../src/demo/fakeServer.js";
import { OpenAIAdapter } from "../src/adapters/openai.js";
import { evaluate } from "../src/runner/evaluate.js";
import { tempDir, FIXTURE_CASES } from "./helpers.js";
import { projectPath } from "../src/util/paths.js";

export const PLAIN = 40;
/** What the hostile candidate answer (T-CHOICE-1) contains: clear screen, set title, NUL, a colour. */
export const HOSTILE = "\u001b[2J\u001b]0;pwned-title\u0007答案：B\u0000 \u001b[31mHOSTILE\u001b[0m";

function candidateAnswer(body: ChatRequestBody): { content: string } {
  const user = body.messages.map((m) => m.content).join("\n");
  if (user.includes("华法林")) return { content: HOSTILE };
  if (user.includes("胸骨后压榨性疼痛")) return { content: "=SUM(1,2) 先观察，回家休息。" };
  if (user.includes("BMI")) return { content: "答案：24.9 kg/m²" };
  if (user.includes("抽取为JSON")) return { content: '{"症状":["咳嗽"],"诊断":["急性支气管炎"],"药物":["对乙酰氨基酚"]}' };
  if (user.includes("45岁男性")) return { content: "答案：B" };
  if (user.includes("45岁女性")) return { content: "答案：B" };
  return { content: "依据指南。\n答案：B" };
}

/** Judge: T-CHOICE-1 critical; T-OPEN-1 (WF05 ★) poor; T-NUM-1 right with weak reasoning (lucky guess); else 8/8/8. */
function judgeReply(body: ChatRequestBody): string {
  const user = body.messages.find((m) => m.role === "user")!.content;
  const items = [...user.matchAll(/^- \[(\w+)\] \(([+-]?\d+)\)/gm)].map((m) => ({ id: m[1]!, met: Number(m[2]) > 0 && !user.includes("胸骨后"), quote: "" }));
  let axes = [8, 8, 8];
  let safety: { verdict: string; why: string } = { verdict: "ok", why: "无风险" };
  if (user.includes("华法林")) safety = { verdict: "critical", why: "\u001b]0;judge-title\u0007剂量建议危险" };
  if (user.includes("胸骨后")) axes = [2, 2, 2];
  if (user.includes("BMI")) axes = [9, 3, 5];
  return JSON.stringify({
    rubric: items, result: { score: axes[0], why: "结果" }, reasoning: { score: axes[1], why: "推理" }, approach: { score: axes[2], why: "思路" },
    safety, rationale: "测试评审",
  });
}

export interface ReviewRun {
  dir: string;
  dbPath: string;
  runId: string;
  /** A fresh copy of the database for one test (the audit log is append-only, so tests cannot share one). */
  copy(): string;
  close(): Promise<void>;
}

export async function makeReviewRun(): Promise<ReviewRun> {
  const dir = tempDir("medeval-review-");
  const cases = path.join(dir, "cases");
  mkdirSync(cases);
  copyFileSync(path.join(FIXTURE_CASES, "mini.jsonl"), path.join(cases, "mini.jsonl"));
  const plain = Array.from({ length: PLAIN }, (_, i) => JSON.stringify({
    id: `P-${String(i).padStart(3, "0")}`, task: "EK03", format: "choice",
    input: { question: `普通题 ${i}：华氏？`.replace("华氏？", "以下哪项正确？"), options: { A: "甲", B: "乙", C: "丙" } },
    reference: { answer: "B" },
    provenance: { source: "synthetic", difficulty: "common", specialty: "药学", language: "zh", synthetic: true },
  }));
  writeFileSync(path.join(cases, "plain.jsonl"), plain.join("\n") + "\n");
  const servers: FakeServer[] = [await startFakeServer(candidateAnswer), await startFakeServer((b) => ({ content: judgeReply(b) }))];
  const dbPath = path.join(dir, "base.sqlite");
  const r = await evaluate({
    datasets: [cases], filters: { profile: "general-llm" },
    candidate: new OpenAIAdapter({ kind: "openai", model: "cand", baseURL: servers[0]!.url, apiKeyEnv: "MEDEVAL_TEST_NONE", timeoutMs: 10_000, maxRetries: 0 }),
    judge: new OpenAIAdapter({ kind: "openai", model: "judge", baseURL: servers[1]!.url, apiKeyEnv: "MEDEVAL_TEST_NONE", timeoutMs: 10_000, maxRetries: 0, temperature: 0, seed: 1 }),
    dbPath, reportDir: dir, concurrency: 8, quiet: true,
  });
  const db = new Database(dbPath);
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
  let n = 0;
  return {
    dir, dbPath, runId: r.runId,
    copy: () => {
      const p = path.join(dir, `t${n++}.sqlite`);
      copyFileSync(dbPath, p);
      return p;
    },
    close: async () => {
      await Promise.all(servers.map((s) => s.close()));
    },
  };
}

export const scoringWeights = JSON.parse(readFileSync(projectPath("rubrics", "scoring.json"), "utf8")) as {
  formats: Record<string, Record<string, number>>;
};

/** A case score from components (0–1) with the weights file, as the scoring stage defines it. */
export function weighted(format: string, comps: Record<string, number>): number {
  const ws = scoringWeights.formats[format]!;
  let num = 0, den = 0;
  for (const [k, v] of Object.entries(comps)) if (ws[k]) { num += ws[k]! * v; den += ws[k]!; }
  return num / den;
}
