// A judge from the candidate's own model family tends to favour it (self-preference): warn when names say so.
import type { Adapter } from "../adapters/types.js";

/** Families by name fragment; the first match wins, so more specific fragments come first. */
const FAMILIES: [string, RegExp][] = [
  ["qwen", /qwen|qwq|tongyi|dashscope/i],
  ["deepseek", /deepseek/i],
  ["gpt", /\bgpt|chatgpt|\bo[134](-|\b)|openai\//i],
  ["glm", /glm|zhipu/i],
  ["llama", /llama/i],
  ["claude", /claude|anthropic/i],
  ["gemini", /gemini|gemma/i],
  ["baichuan", /baichuan/i],
  ["moonshot/kimi", /moonshot|kimi/i],
  ["ernie", /ernie|wenxin/i],
  ["doubao", /doubao|skylark/i],
  ["hunyuan", /hunyuan/i],
  ["internlm", /internlm|intern-s|internvl/i],
  ["mistral", /mistral|mixtral/i],
  ["minimax", /minimax|abab/i],
  ["spark", /spark|xinghuo/i],
  ["step", /\bstep-\d/i],
  ["yi", /(^|[/:_\s-])yi([-_.\s]|$)/i],
];

export function modelFamily(model: string): string | null {
  for (const [family, re] of FAMILIES) if (re.test(model)) return family;
  return null;
}

function modelName(a: Adapter): string {
  const m = a.describe().model;
  return typeof m === "string" ? m : a.name;
}

/** One warning per judge that is the candidate's model, or of its family. */
export function sameFamilyWarnings(candidate: Adapter | string, judges: Adapter[]): string[] {
  const cand = typeof candidate === "string" ? candidate : modelName(candidate);
  const candFamily = modelFamily(cand);
  const out: string[] = [];
  for (const j of judges) {
    const jm = modelName(j);
    if (jm.toLowerCase() === cand.toLowerCase()) out.push(`judge ${j.name} is the same model as the candidate (${cand}): it may favour its own answers`);
    else if (candFamily && modelFamily(jm) === candFamily) out.push(`judge ${j.name} is of the candidate's model family (${candFamily}: ${cand}): it may favour its own family's answers`);
  }
  return out;
}
