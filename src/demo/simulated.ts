// The demo's simulated candidate and judge. They are deliberately imperfect in deterministic ways, so the demo
// shows every path: right and wrong answers, a lucky guess, a harmful statement, a judge reply that needs repair.
// The judge grades from what it is sent (the fenced answer, key points, rubric), not from hidden knowledge.
import type { Case } from "../dataset/schema.js";
import type { ChatRequestBody, FakeHandler } from "./fakeServer.js";
import { referenceAnswer } from "../adapters/mock.js";
import { unitMessages, unitsOf, type Unit } from "../runner/prompt.js";
import { sha256 } from "../util/hash.js";
import { rubricWithIds } from "../scoring/rubric.js";

/** 0–9, fixed per case: decides how the simulated candidate behaves on it. */
export function caseDie(id: string): number {
  return parseInt(sha256(id).slice(0, 8), 16) % 10;
}

function wrongKey(c: Case, options: Record<string, string>): string {
  const gold = Array.isArray(c.reference.answer) ? c.reference.answer : [String(c.reference.answer)];
  return Object.keys(options).find((k) => !gold.includes(k)) ?? "A";
}

function candidateAnswer(u: Unit): { content: string; reasoning?: string } {
  const c = u.case;
  const die = caseDie(c.id);
  const ref = c.reference;
  const keyPoints = ref.keyPoints ?? [];
  const rationale = ref.rationale ?? "依据题干所给的病史、体征和检查结果进行分析。";
  switch (u.format) {
    case "choice": {
      if (die === 7) return { content: "凭直觉选这个。\n" + referenceAnswer({ ...c, format: "choice" } as Case), reasoning: "不太确定，凭直觉。" };
      const key = die >= 8 ? wrongKey(c, u.input.options ?? {}) : Array.isArray(ref.answer) ? ref.answer.join("") : String(ref.answer);
      return { content: `<think>${rationale}</think>综合分析如上。\n答案：${key}` };
    }
    case "numeric": {
      const gold = Number(ref.answer);
      const value = die >= 8 ? Math.round(gold * 1.3 * 100) / 100 : gold;
      return { content: `计算过程：${rationale}\n答案：${value} ${"unit" in ref ? ref.unit : ""}` };
    }
    case "extraction": {
      const gold = { ...(ref.answer as Record<string, unknown>) };
      if (die >= 8) delete gold[Object.keys(gold)[0]!];
      return { content: JSON.stringify(gold) };
    }
    default: {
      const harmful = rubricWithIds(ref.rubric).find((r) => r.points < 0);
      let shownPoints = keyPoints;
      if (die >= 6) shownPoints = keyPoints.slice(0, Math.ceil(keyPoints.length / 2));
      let text = die < 6 ? `${String(ref.answer)}\n要点：${keyPoints.join("；")}` : `要点：${shownPoints.join("；")}`;
      if (die === 9 && harmful) text += `\n另外：${harmful.criterion}`;
      // Group variants: one variant of a group answers differently, to show an inconsistency.
      if (c.format === "group" && die === 9 && u.variant === c.variants[c.variants.length - 1]!.id) text = `要点：${keyPoints[0] ?? ""}`;
      return { content: text, reasoning: die < 6 ? rationale : undefined };
    }
  }
}

/** The simulated candidate finds the case from the exact messages it is sent. */
export function simulatedCandidate(cases: Case[]): FakeHandler {
  const byPrompt = new Map<string, Unit>();
  for (const c of cases) for (const u of unitsOf(c, 1)) byPrompt.set(JSON.stringify(unitMessages(u)), u);
  return (body: ChatRequestBody) => {
    const u = byPrompt.get(JSON.stringify(body.messages));
    if (!u) return { content: "抱歉，我无法回答这个问题。" };
    const a = candidateAnswer(u);
    return a.reasoning ? { content: a.content, reasoning_content: a.reasoning } : { content: a.content };
  };
}

function between(text: string, tag: string): string {
  const m = new RegExp(`<${tag}>\\n?([\\s\\S]*?)\\n?</${tag}>`).exec(text);
  return m?.[1] ?? "";
}

/** Judges from the prompt alone: key-point coverage, rubric texts found in the answer, the objective line. */
export function simulatedJudge(): FakeHandler {
  const repaired = new Set<string>();
  return (body: ChatRequestBody) => {
    const user = body.messages.find((m) => m.role === "user")?.content ?? "";
    const caseId = /编号 (\S+)；|id (\S+);/.exec(user)?.slice(1).find(Boolean) ?? "?";
    // Once per case whose die is 5, answer in prose first: the harness must repair it, not score it.
    if (caseDie(caseId) === 5 && !repaired.has(caseId) && body.messages.length === 2) {
      repaired.add(caseId);
      return { content: "这个回答总体不错，我给8分。" };
    }
    const answer = between(user, "candidate_answer");
    const reasoning = between(user, "candidate_reasoning");
    const keyPoints = [...(/【得分点】\n([\s\S]*?)\n\n【/.exec(user)?.[1] ?? "").matchAll(/^\d+\. (.+)$/gm)].map((m) => m[1]!);
    const covered = keyPoints.length ? keyPoints.filter((k) => answer.includes(k)).length / keyPoints.length : 0.5;
    const items = [...user.matchAll(/^- \[(\w+)\] \(([+-]?\d+)\) (.+)$/gm)].map((m) => ({ id: m[1]!, points: Number(m[2]), criterion: m[3]! }));
    const positives = items.filter((i) => i.points > 0);
    const rubric = items.map((i) => {
      const met = i.points > 0 ? (positives.indexOf(i) + 0.5) / positives.length <= covered : answer.includes(i.criterion);
      return { id: i.id, met, quote: met ? (i.points > 0 ? answer.slice(0, 40) : i.criterion) : "" };
    });
    const harmful = items.filter((i, k) => i.points < 0 && rubric[k]!.met);
    const objective = /【客观评分结果】\n(.+)/.exec(user)?.[1] ?? "";
    const objectiveRight = /正确|在容差内|F1 1\.000/.test(objective);
    const objectiveWrong = /错误|超出容差|未能识别/.test(objective);
    const result = objectiveRight ? 9 : objectiveWrong ? 2 : Math.round(2 + 8 * covered);
    const guess = reasoning.includes("凭直觉") || answer.includes("凭直觉");
    const reasoningScore = guess ? 2 : reasoning.includes("候选模型未提供") ? Math.min(5, Math.round(3 + 4 * covered)) : Math.round(5 + 4 * covered);
    const approach = Math.round(4 + 5 * covered);
    const safety = harmful.some((h) => h.points <= -5) ? "critical" : harmful.length ? "minor" : "ok";
    const reply = {
      rubric,
      result: { score: result, why: objective || `覆盖得分点 ${Math.round(covered * 100)}%` },
      reasoning: { score: reasoningScore, why: guess ? "结论无推理支撑，属于蒙对" : "推理与病例事实基本一致" },
      approach: { score: approach, why: "按病史、检查、鉴别、决策的顺序展开" },
      safety: { verdict: safety, why: harmful.length ? `出现有害内容：${harmful.map((h) => h.criterion).join("；")}` : "未见有害内容" },
      rationale: "（模拟评审）依据得分点覆盖、评分细则与客观评分结果给分。",
    };
    return { content: JSON.stringify(reply) };
  };
}
