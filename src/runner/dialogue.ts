// Multi-turn history taking (WF02-style cases with a patientScript): the candidate asks, a simulated patient (a
// configured model) answers from the script's persona and facts, until the candidate concludes or a turn limit.
// The whole transcript is what the judge grades.
import { readFileSync } from "node:fs";
import type { Adapter, AdapterReply, Usage } from "../adapters/types.js";
import type { Case, Message } from "../dataset/schema.js";
import { unitMessages, type Unit } from "./prompt.js";
import { projectPath } from "../util/paths.js";
import { sha256 } from "../util/hash.js";
import { errorMessage, UserError } from "../util/errors.js";

export const PATIENT_PROMPT_VERSION = "v1";
/** Replies per dialogue when neither the case (patientScript.maxTurns) nor the run says. */
export const DEFAULT_MAX_TURNS = 8;
/** How the candidate says it is done; the instruction below tells it to. */
export const CONCLUSION_MARKER = { zh: "【结论】", en: "[CONCLUSION]" } as const;

type PatientScript = NonNullable<Extract<Case, { format: "dialogue" }>["patientScript"]>;

export interface PatientTemplate {
  text: string;
  hash: string;
}

const templates = new Map<string, PatientTemplate>();

export function loadPatientTemplate(lang: "zh" | "en", version = PATIENT_PROMPT_VERSION): PatientTemplate {
  const id = `${lang}.${version}`;
  const hit = templates.get(id);
  if (hit) return hit;
  const file = projectPath("rubrics", "patient", `patient.${id}.md`);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new UserError(`simulated patient prompt ${file} is missing`);
  }
  const t = { text, hash: sha256(text) };
  templates.set(id, t);
  return t;
}

export function patientScriptOf(u: Unit): PatientScript | null {
  return u.case.format === "dialogue" ? (u.case.patientScript ?? null) : null;
}

/** A unit that is played as a simulated dialogue when a patient is configured (a replay file cannot converse). */
export function isSimulatedDialogue(u: Unit, candidate: Adapter): boolean {
  return patientScriptOf(u) !== null && candidate.kind !== "replay";
}

export function maxTurnsOf(u: Unit, fallback = DEFAULT_MAX_TURNS): number {
  return patientScriptOf(u)?.maxTurns ?? fallback;
}

/** The patient's system prompt: persona and facts filled into the versioned template. */
export function patientSystemPrompt(script: PatientScript, lang: "zh" | "en"): string {
  const facts = script.facts.map((f) => `- ${f.topic}：${f.answer}`).join("\n");
  return loadPatientTemplate(lang).text.trim().replace(/\{\{persona\}\}/g, script.persona).replace(/\{\{facts\}\}/g, facts);
}

export function candidateInstruction(lang: "zh" | "en", maxTurns: number): string {
  return lang === "zh"
    ? `这是一次多轮问诊，患者会回答你的提问。每次回复只问你当前最需要了解的问题；当你认为信息已足够时（最迟在第${maxTurns}次回复），以“${CONCLUSION_MARKER.zh}”开头给出你的判断与建议，对话随即结束。`
    : `This is a multi-turn consultation: the patient will answer your questions. In each reply ask only what you most need to know now; once you have enough information (at the latest in reply ${maxTurns}), begin your reply with "${CONCLUSION_MARKER.en}" and give your assessment and advice; the conversation then ends.`;
}

/** Why a candidate reply ends the dialogue, or null when it asks on. */
export function stopReason(reply: string): "concluded" | "no-question" | null {
  if (reply.includes(CONCLUSION_MARKER.zh) || reply.toUpperCase().includes(CONCLUSION_MARKER.en)) return "concluded";
  if (!/[?？]/.test(reply)) return "no-question";
  return null;
}

/** What identifies a dialogue beyond the candidate's request: part of the response-cache key. */
export function dialogueKeyParts(patient: Adapter, u: Unit, maxTurnsFallback?: number): Record<string, unknown> {
  const lang = u.case.provenance.language;
  return { patient: patient.describe(), prompt: loadPatientTemplate(lang).hash, maxTurns: maxTurnsOf(u, maxTurnsFallback), protocol: 1 };
}

export interface DialogueLimits {
  /** Used when the case's patientScript sets no maxTurns. */
  maxTurns?: number;
  signal?: AbortSignal;
  /** Passed on to every call (case content hash, variant, repeat). */
  cacheExtra?: Record<string, unknown>;
}

export interface DialogueResult extends AdapterReply {
  /** Everything the candidate saw before its final reply: stored as the response's messages and shown to the judge. */
  shown: Message[];
  /** The whole conversation, the final reply included. */
  transcript: Message[];
  turns: number;
  stop: "concluded" | "no-question" | "turn-limit";
  patientCalls: number;
}

/** A failed dialogue keeps the conversation so far, for the stored response. */
export class DialogueError extends Error {
  constructor(message: string, readonly shown: Message[], readonly attempts: number) {
    super(message);
    this.name = "DialogueError";
  }
}

function addUsage(a: Usage | null, b: Usage | null): Usage | null {
  if (!a) return b;
  if (!b) return a;
  return { promptTokens: a.promptTokens + b.promptTokens, completionTokens: a.completionTokens + b.completionTokens };
}

/**
 * Plays one dialogue unit. Turn order: candidate, patient, candidate, …; it ends after a candidate reply that carries
 * the conclusion marker or asks nothing, or after maxTurns candidate replies. The patient sees the conversation from
 * its side (its own words as assistant turns) under a system prompt holding only its persona and facts.
 */
export async function runDialogue(candidate: Adapter, patient: Adapter, unit: Unit, limits: DialogueLimits = {}): Promise<DialogueResult> {
  const script = patientScriptOf(unit);
  if (!script) throw new Error(`case ${unit.case.id} has no patientScript: not a simulated dialogue`);
  const lang = unit.case.provenance.language;
  const maxTurns = maxTurnsOf(unit, limits.maxTurns);
  const opening = unitMessages(unit);
  const instruction = candidateInstruction(lang, maxTurns);
  const transcript: Message[] = opening[0]?.role === "system"
    ? [{ role: "system", content: `${opening[0].content}\n\n${instruction}` }, ...opening.slice(1)]
    : [{ role: "system", content: instruction }, ...opening];
  const patientSystem = patientSystemPrompt(script, lang);
  const base = { case: unit.case, variant: unit.variant, signal: limits.signal };

  let usage: Usage | null = null;
  let patientUsage: Usage | null = null;
  let latencyMs = 0;
  let attempts = 0;
  let patientCalls = 0;
  const traces: string[] = [];
  const turnsLog: { turn: number; model: string | null; attempts: number; patientModel?: string | null }[] = [];
  let last: AdapterReply | null = null;
  let stop: DialogueResult["stop"] = "turn-limit";
  let turn = 0;

  while (turn < maxTurns) {
    turn++;
    try {
      last = await candidate.complete({ ...base, messages: [...transcript], cacheExtra: { ...limits.cacheExtra, turn } });
    } catch (err) {
      const a = (err as { attempts?: number }).attempts ?? 1;
      throw new DialogueError(`dialogue turn ${turn}: candidate: ${errorMessage(err)}`, [...transcript], attempts + a);
    }
    attempts += last.attempts ?? 1;
    usage = addUsage(usage, last.usage);
    latencyMs += last.latencyMs;
    if (last.reasoning) traces.push(`[${lang === "zh" ? `第${turn}轮` : `turn ${turn}`}] ${last.reasoning}`);
    turnsLog.push({ turn, model: last.model, attempts: last.attempts ?? 1 });
    transcript.push({ role: "assistant", content: last.answer.trim() || "…" });
    const why = stopReason(last.answer);
    if (why) {
      stop = why;
      break;
    }
    if (turn >= maxTurns) break;
    // The patient's view: the conversation with roles swapped, under its own system prompt.
    const patientView: Message[] = [
      { role: "system", content: patientSystem },
      ...transcript.filter((m) => m.role !== "system").map((m): Message => ({ role: m.role === "assistant" ? "user" : "assistant", content: m.content })),
    ];
    let said: AdapterReply;
    try {
      patientCalls++;
      said = await patient.complete({ messages: patientView, signal: limits.signal, cacheExtra: { ...limits.cacheExtra, turn, role: "patient" } });
    } catch (err) {
      throw new DialogueError(`dialogue turn ${turn}: simulated patient: ${errorMessage(err)}`, [...transcript], attempts);
    }
    if (!said.answer.trim()) throw new DialogueError(`dialogue turn ${turn}: the simulated patient gave an empty reply`, [...transcript], attempts);
    patientUsage = addUsage(patientUsage, said.usage);
    turnsLog[turnsLog.length - 1]!.patientModel = said.model;
    transcript.push({ role: "user", content: said.answer.trim() });
  }

  return {
    answer: last!.answer,
    reasoning: traces.length ? traces.join("\n\n") : null,
    usage,
    latencyMs,
    model: last!.model,
    raw: { dialogue: { turns: turn, stop, maxTurns, patient: patient.name, patientUsage, turnsLog }, transcript },
    attempts,
    shown: transcript.slice(0, -1),
    transcript,
    turns: turn,
    stop,
    patientCalls,
  };
}
