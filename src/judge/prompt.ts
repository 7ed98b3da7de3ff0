// Renders the versioned judge prompt (rubrics/judge/judge.<lang>.<version>.md) for one response.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { UserError } from "../util/errors.js";
import { projectPath } from "../util/paths.js";
import { sha256 } from "../util/hash.js";
import type { Case, Message } from "../dataset/schema.js";
import type { Task } from "../taxonomy/schema.js";
import { rubricWithIds } from "../scoring/rubric.js";
import { JUDGE_OUTPUT_EXAMPLE, ITEM_OUTPUT_EXAMPLE } from "./schema.js";

export interface JudgeTemplate {
  language: "zh" | "en";
  version: string;
  hash: string;
  system: string;
  user: string;
}

export const JUDGE_PROMPT_VERSION = "v1";

function templateFile(kind: "judge" | "item", language: "zh" | "en", version: string): string {
  return projectPath("rubrics", "judge", `${kind}.${language}.${version}.md`);
}

function readTemplate(kind: "judge" | "item", language: "zh" | "en", version: string): JudgeTemplate {
  const file = templateFile(kind, language, version);
  if (!existsSync(file)) {
    const known = readdirSync(projectPath("rubrics", "judge")).filter((f) => f.startsWith(`${kind}.${language}.`)).map((f) => f.split(".")[2]);
    throw new UserError(`judge prompt version "${version}": ${file} does not exist (versions: ${known.join(", ") || "none"})`);
  }
  const text = readFileSync(file, "utf8");
  const [system, user] = text.split(/^---USER---$/m);
  if (!system || !user) throw new UserError(`judge template ${kind}.${language}.${version}.md lacks its ---USER--- separator`);
  return { language, version, hash: sha256(text), system: system.trim(), user: user.trim() };
}

export function loadJudgeTemplate(language: "zh" | "en", version = JUDGE_PROMPT_VERSION): JudgeTemplate {
  return readTemplate("judge", language, version);
}

export interface JudgeTemplates {
  zh: JudgeTemplate;
  en: JudgeTemplate;
  /** One hash for the pair, stored with the judgment set. */
  hash: string;
  version: string;
  /** Per-item templates (judge.mode "per-item"), where this version has them. */
  item?: { zh: JudgeTemplate; en: JudgeTemplate; hash: string };
}

export function loadJudgeTemplates(version = JUDGE_PROMPT_VERSION): JudgeTemplates {
  const zh = loadJudgeTemplate("zh", version);
  const en = loadJudgeTemplate("en", version);
  const hasItem = existsSync(templateFile("item", "zh", version)) && existsSync(templateFile("item", "en", version));
  const item = hasItem ? (() => {
    const iz = readTemplate("item", "zh", version);
    const ie = readTemplate("item", "en", version);
    return { zh: iz, en: ie, hash: sha256(iz.hash + ie.hash) };
  })() : undefined;
  return { zh, en, hash: sha256(zh.hash + en.hash), version, ...(item ? { item } : {}) };
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

/** The template variables every judge prompt shares. `rubricItems: false` leaves the rubric out (per-item mode's axes call). */
function promptVars(lang: "zh" | "en", input: JudgeInput, rubricItems: boolean): Record<string, string> {
  const c = input.case;
  const ref = c.reference;
  const zh = lang === "zh";
  const none = zh ? "（无）" : "(none)";
  const refAnswer = typeof ref.answer === "string" ? ref.answer : Array.isArray(ref.answer) ? ref.answer.join("") : c.format === "numeric" ? `${String(ref.answer)} ${"unit" in ref ? ref.unit : ""}` : JSON.stringify(ref.answer);
  const rubric = rubricItems ? rubricWithIds(ref.rubric) : [];
  return {
    output_schema: JUDGE_OUTPUT_EXAMPLE,
    case_id: c.id,
    task: c.task,
    task_name: zh ? input.task.zh : input.task.en,
    format: c.format,
    question: renderTranscript(input.shown.filter((m) => m.role !== "system"), lang),
    reference_answer: refAnswer,
    rationale: ref.rationale ?? none,
    key_points: ref.keyPoints?.length ? ref.keyPoints.map((k, i) => `${i + 1}. ${k}`).join("\n") : none,
    rubric_items: rubric.length ? rubric.map((r) => `- [${r.id}] (${r.points > 0 ? "+" : ""}${r.points}) ${r.criterion}`).join("\n") : (zh ? "（无评分细则：rubric 输出空数组 []）" : "(no rubric items: output \"rubric\": [])"),
    objective: input.objective ?? (zh ? "（本题无客观评分）" : "(no objective scoring for this item)"),
    reasoning: input.reasoning ? fenceSafe(input.reasoning) : (zh ? "（候选模型未提供单独的推理过程）" : "(the candidate gave no separate reasoning trace)"),
    answer: fenceSafe(input.answer) || none,
  };
}

function fillTemplate(t: JudgeTemplate, vars: Record<string, string>): { messages: Message[]; hash: string } {
  const fill = (s: string) => s.replace(/\{\{(\w+)\}\}/g, (m, k: string) => vars[k] ?? m);
  const messages: Message[] = [
    { role: "system", content: fill(t.system) },
    { role: "user", content: fill(t.user) },
  ];
  return { messages, hash: sha256(messages.map((m) => m.content).join("\u0000")) };
}

/** The all-items prompt; with `{ rubricItems: false }` the axes-only prompt of per-item mode. */
export function renderJudgePrompt(t: JudgeTemplate, input: JudgeInput, opts: { rubricItems?: boolean } = {}): { messages: Message[]; hash: string } {
  return fillTemplate(t, promptVars(t.language, input, opts.rubricItems ?? true));
}

/** One rubric item's prompt (per-item mode). */
export function renderItemPrompt(t: JudgeTemplate, input: JudgeInput, item: { id: string; points: number; criterion: string }): { messages: Message[]; hash: string } {
  const zh = t.language === "zh";
  const kind = item.points > 0
    ? (zh ? "（正分项：答案包含该内容即 met=true）" : "(positive item: met=true when the answer contains it)")
    : (zh ? "（负分项：答案出现该有害/错误内容即 met=true）" : "(negative item: met=true when the answer contains this harmful or wrong content)");
  return fillTemplate(t, {
    ...promptVars(t.language, input, false),
    output_schema: ITEM_OUTPUT_EXAMPLE.replace("r1", item.id),
    item_id: item.id,
    item_points: `${item.points > 0 ? "+" : ""}${item.points}`,
    item_criterion: item.criterion,
    item_kind: kind,
  });
}
