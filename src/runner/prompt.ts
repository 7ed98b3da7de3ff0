// Turns a case (or a group variant) into the chat messages the candidate sees.
import type { Case, CaseInput, Message } from "../dataset/schema.js";

type AnswerFormat = "choice" | "open" | "extraction" | "numeric" | "dialogue";

const INSTRUCTIONS: Record<"zh" | "en", Partial<Record<AnswerFormat, string>>> = {
  zh: {
    choice: "请先简要说明推理过程，最后单独一行以“答案：X”的格式给出答案（多选题写出全部正确选项，如“答案：AC”）。",
    numeric: "请写出计算过程，最后单独一行以“答案：数值 单位”的格式给出结果。",
    extraction: "只输出一个 JSON 对象，不要输出其他文字。",
  },
  en: {
    choice: "Explain your reasoning briefly, then give the answer on a last line as \"Answer: X\" (for multiple answers list every correct option, e.g. \"Answer: AC\").",
    numeric: "Show your working, then give the result on a last line as \"Answer: value unit\".",
    extraction: "Output one JSON object only, nothing else.",
  },
};

function userText(format: AnswerFormat, input: CaseInput, lang: "zh" | "en"): string {
  const parts: string[] = [];
  if (input.context) parts.push(lang === "zh" ? `【资料】\n${input.context}` : `[Material]\n${input.context}`);
  if (input.question) parts.push(input.question);
  if (input.options) parts.push(Object.entries(input.options).map(([k, v]) => `${k}. ${v}`).join("\n"));
  const instr = INSTRUCTIONS[lang][format];
  if (instr) parts.push(instr);
  return parts.join("\n\n");
}

export function buildMessages(format: AnswerFormat, input: CaseInput, lang: "zh" | "en"): Message[] {
  const msgs: Message[] = [];
  if (input.system) msgs.push({ role: "system", content: input.system });
  if (input.messages) {
    msgs.push(...input.messages);
    // A question alongside a conversation (rare) goes after it, as the user's latest words.
    if (input.question || input.context) msgs.push({ role: "user", content: userText(format, { ...input, messages: undefined }, lang) });
    return msgs;
  }
  msgs.push({ role: "user", content: userText(format, input, lang) });
  return msgs;
}

/** A unit of work: one candidate call (a case, or one variant of a group case, at one repeat). */
export interface Unit {
  case: Case;
  variant: string;
  repeat: number;
  /** The format this unit is answered and scored in. */
  format: AnswerFormat;
  input: CaseInput;
}

export function unitsOf(c: Case, repeats: number): Unit[] {
  const out: Unit[] = [];
  for (let r = 0; r < repeats; r++) {
    if (c.format === "group") {
      for (const v of c.variants) out.push({ case: c, variant: v.id, repeat: r, format: c.variantFormat, input: v.input });
    } else {
      out.push({ case: c, variant: "", repeat: r, format: c.format, input: c.input });
    }
  }
  return out;
}

export function unitMessages(u: Unit): Message[] {
  return buildMessages(u.format, u.input, u.case.provenance.language);
}
