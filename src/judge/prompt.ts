// Renders the versioned judge prompt (rubrics/judge/judge.<lang>.<version>.md) for one response.
import { readFileSync } from "node:fs";
import { projectPath } from "../util/paths.js";
import { sha256 } from "../util/hash.js";
import type { Case, Message } from "../dataset/schema.js";
import type { Task } from "../taxonomy/schema.js";
import { rubricWithIds } from "../scoring/rubric.js";
import { JUDGE_OUTPUT_EXAMPLE } from "./schema.js";

export interface JudgeTemplate {
  language: "zh" | "en";
  version: string;
  hash: string;
  system: string;
  user: string;
}

export const JUDGE_PROMPT_VERSION = "v1";

export function loadJudgeTemplate(language: "zh" | "en", version = JUDGE_PROMPT_VERSION): JudgeTemplate {
  const text = readFileSync(projectPath("rubrics", "judge", `judge.${language}.${version}.md`), "utf8");
  const [system, user] = text.split(/^---USER---$/m);
  if (!system || !user) throw new Error(`judge template judge.${language}.${version}.md lacks its ---USER--- separator`);
  return { language, version, hash: sha256(text), system: system.trim(), user: user.trim() };
}

export interface JudgeTemplates {
  zh: JudgeTemplate;
  en: JudgeTemplate;
  /** One hash for the pair, stored with the judgment set. */
  hash: string;
  version: string;
}

export function loadJudgeTemplates(version = JUDGE_PROMPT_VERSION): JudgeTemplates {
  const zh = loadJudgeTemplate("zh", version);
  const en = loadJudgeTemplate("en", version);
  return { zh, en, hash: sha256(zh.hash + en.hash), version };
}

/** Candidate text is data: it must not be able to close the fence it sits in. */
export function fenceSafe(text: string): string {
  return text.replace(/<\/?candidate_(answer|reasoning)>/gi, (m) => m.replace("<", "&lt;"));
}

export function renderTranscript(messages: Message[], lang: "zh" | "en"): string {
  const names = lang === "zh" ? { system: "系统", user: "用户", assistant: "助手" } : { system: "System", user: "User", assistant: "Assistant" };
  return messages.map((m) => `${names[m.role]}：${m.content}`).join("\n\n");
}

export interface JudgeInput {
  case: Case;
  task: Task;
  /** Exactly what the candidate was shown. */
  shown: Message[];
  answer: string;
  reasoning: string | null;
  objective: string | null;
}

export function renderJudgePrompt(t: JudgeTemplate, input: JudgeInput): { messages: Message[]; hash: string } {
  const c = input.case;
  const ref = c.reference;
  const zh = t.language === "zh";
  const none = zh ? "（无）" : "(none)";
  const refAnswer = typeof ref.answer === "string" ? ref.answer : Array.isArray(ref.answer) ? ref.answer.join("") : c.format === "numeric" ? `${String(ref.answer)} ${"unit" in ref ? ref.unit : ""}` : JSON.stringify(ref.answer);
  const rubric = rubricWithIds(ref.rubric);
  const vars: Record<string, string> = {
    output_schema: JUDGE_OUTPUT_EXAMPLE,
    case_id: c.id,
    task: c.task,
    task_name: zh ? input.task.zh : input.task.en,
    format: c.format,
    question: renderTranscript(input.shown.filter((m) => m.role !== "system"), t.language),
    reference_answer: refAnswer,
    rationale: ref.rationale ?? none,
    key_points: ref.keyPoints?.length ? ref.keyPoints.map((k, i) => `${i + 1}. ${k}`).join("\n") : none,
    rubric_items: rubric.length ? rubric.map((r) => `- [${r.id}] (${r.points > 0 ? "+" : ""}${r.points}) ${r.criterion}`).join("\n") : (zh ? "（无评分细则：rubric 输出空数组 []）" : "(no rubric items: output \"rubric\": [])"),
    objective: input.objective ?? (zh ? "（本题无客观评分）" : "(no objective scoring for this item)"),
    reasoning: input.reasoning ? fenceSafe(input.reasoning) : (zh ? "（候选模型未提供单独的推理过程）" : "(the candidate gave no separate reasoning trace)"),
    answer: fenceSafe(input.answer) || none,
  };
  const fill = (s: string) => s.replace(/\{\{(\w+)\}\}/g, (m, k: string) => vars[k] ?? m);
  const messages: Message[] = [
    { role: "system", content: fill(t.system) },
    { role: "user", content: fill(t.user) },
  ];
  return { messages, hash: sha256(messages.map((m) => m.content).join("\u0000")) };
}
