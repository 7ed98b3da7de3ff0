// What a reviewer sees of one item, as inert text: the case, the reference, the candidate's reasoning and answer,
// each judge's verdict, and why it was queued. The terminal session wraps it to the screen; the export uses the fields.
import type { Taxonomy } from "../taxonomy/load.js";
import { displayWidth } from "../cli/output.js";
import type { ReviewContext } from "./context.js";
import { unitViews } from "./context.js";
import type { QueueItem } from "./queue.js";
import { inert } from "./inert.js";
import { caseRubric, judgeValues } from "./score.js";
import type { ItemState } from "./state.js";

export interface ItemText {
  title: string;
  why: string;
  question: string;
  context: string;
  options: string;
  reference: string;
  keyPoints: string;
  rubricItems: string;
  /** Per answer (one, or one per group variant). */
  answers: { label: string; reasoning: string; answer: string; error: string | null }[];
  judges: { label: string; line: string; rubric: string; rationale: string }[];
  jury: string;
}

const fmtAxis = (x: number | null) => (x === null ? "—" : Number.isInteger(x) ? String(x) : x.toFixed(1));
export const fmtPct = (x: number | null) => (x === null ? "—" : (x * 100).toFixed(1));

export function rubricText(v: Record<string, boolean>): string {
  return Object.entries(v).map(([id, met]) => `${id}=${met ? "y" : "n"}`).join("; ");
}

export function itemText(ctx: ReviewContext, tax: Taxonomy, q: QueueItem): ItemText {
  const c = ctx.caseOf(q.caseId)!;
  const task = tax.task(c.task);
  const input = c.format === "group" ? c.variants[0]!.input : c.input;
  const ref = c.reference;
  const refAnswer = typeof ref.answer === "string" ? ref.answer : Array.isArray(ref.answer) ? ref.answer.join(", ") : typeof ref.answer === "number" ? `${ref.answer} ${"unit" in ref ? ref.unit : ""}`.trim() : JSON.stringify(ref.answer);
  const units = unitViews(ctx, q.caseId, q.repeat);
  const group = c.format === "group";
  const judges: ItemText["judges"] = [];
  for (const u of units) {
    for (const j of u.judges) {
      const label = `${group ? `[${u.variant}] ` : ""}${inert(j.judge)}`;
      if (!j.reply) {
        judges.push({ label, line: `failed: ${inert(j.error ?? "invalid reply")}`, rubric: "", rationale: "" });
        continue;
      }
      const r = j.reply;
      judges.push({
        label,
        line: `result ${r.result.score} · reasoning ${r.reasoning.score} · approach ${r.approach.score} · safety ${r.safety.verdict}`,
        rubric: r.rubric.map((v) => `${inert(v.id)}=${v.met ? "y" : "n"}`).join("; "),
        rationale: inert([r.rationale, `safety: ${r.safety.why}`, `reasoning: ${r.reasoning.why}`].join(" | ")),
      });
    }
  }
  const jv = judgeValues(ctx, q.caseId, q.repeat);
  return {
    title: `${q.caseId} · ${c.task}${q.star ? " ★" : ""} ${task ? task.zh : ""}${ctx.repeats > 1 ? ` · repeat ${q.repeat + 1}` : ""}`,
    why: q.reasons.map((r) => `${r.kind}: ${inert(r.reason)}`).join("\n"),
    question: inert(group ? c.variants.map((v) => `[${v.id}] ${v.input.question ?? ""}`).join("\n") : input?.question ?? input?.messages?.map((m) => `${m.role}: ${m.content}`).join("\n") ?? ""),
    context: inert(input?.context ?? ""),
    options: inert(input?.options ? Object.entries(input.options).map(([k, v]) => `${k}. ${v}`).join("  ") : ""),
    reference: inert(refAnswer),
    keyPoints: inert((ref.keyPoints ?? []).map((k, i) => `${i + 1}) ${k}`).join("  ")),
    rubricItems: inert(caseRubric(c).map((r) => `${r.id} (${r.points > 0 ? "+" : ""}${r.points}) ${r.criterion}`).join("\n")),
    answers: units.map((u) => ({
      label: group ? `[${u.variant}] ` : "",
      reasoning: inert(u.response?.reasoning ?? ""),
      answer: inert(u.response?.answer ?? ""),
      error: u.response?.status === "error" ? inert(u.response.error ?? "error") : u.response ? null : "no answer recorded",
    })),
    judges,
    jury: `score ${fmtPct(jv.score)} · result ${fmtAxis(jv.result)} · reasoning ${fmtAxis(jv.reasoning)} · approach ${fmtAxis(jv.approach)} · safety ${jv.safety ?? "—"}${Object.keys(jv.rubric).length ? ` · rubric ${rubricText(jv.rubric)}` : ""}`,
  };
}

/** Wraps text to `width` terminal columns (CJK counts double), keeping at most `max` lines (the last ends in …). */
export function wrap(text: string, width: number, max = Infinity): string[] {
  const out: string[] = [];
  for (const para of text.split("\n")) {
    let line = "";
    let w = 0;
    for (const ch of para) {
      const cw = displayWidth(ch);
      if (w + cw > width) {
        out.push(line);
        line = "";
        w = 0;
      }
      line += ch;
      w += cw;
    }
    out.push(line);
  }
  if (out.length > max) {
    const kept = out.slice(0, max);
    let last = kept[max - 1]!;
    while (displayWidth(last) > width - 2) last = [...last].slice(0, -1).join("");
    kept[max - 1] = last + " …";
    return kept;
  }
  return out;
}

function field(label: string, text: string, width: number, max: number): string[] {
  if (!text.trim()) return [];
  const pad = " ".repeat(displayWidth(label) + 1);
  return wrap(text.trim(), width - pad.length, max).map((l, i) => (i === 0 ? `${label} ${l}` : pad + l));
}

/** The item as screen lines; `full` shows every text in full (otherwise each is cut to a few lines for 80×24). */
export function itemLines(t: ItemText, state: ItemState | undefined, pos: string, width: number, full: boolean): string[] {
  const m = (n: number) => (full ? Infinity : n);
  const head = `── ${pos} · ${t.title} `;
  const lines = [head + "─".repeat(Math.max(0, width - displayWidth(head)))];
  lines.push(...field("Why:", t.why, width, m(2)));
  if (state && (state.decisions.length || state.adjudication)) {
    const ds = [...state.decisions, ...(state.adjudication ? [state.adjudication] : [])];
    lines.push(...field("Reviews:", ds.map((d) => `${inert(d.reviewer)} ${d.action} (${fmtPct(d.score)}, safety ${d.safety ?? "—"}${d.values ? `, axes ${d.values.result}/${d.values.reasoning}/${d.values.approach}` : ""})`).join("; ") + ` → ${state.status}${state.conflict ? `: ${state.conflict}` : ""}`, width, m(2)));
  }
  lines.push(...field("Context:", t.context, width, m(2)));
  lines.push(...field("Question:", t.question, width, m(2)));
  lines.push(...field("Options:", t.options, width, m(2)));
  lines.push(...field("Reference:", t.reference, width, m(2)));
  lines.push(...field("Key points:", t.keyPoints, width, m(1)));
  lines.push(...field("Rubric:", t.rubricItems, width, m(3)));
  for (const a of t.answers) {
    if (a.error) lines.push(...field(`${a.label}Error:`, a.error, width, m(1)));
    lines.push(...field(`${a.label}Reasoning:`, a.reasoning, width, m(2)));
    lines.push(...field(`${a.label}Answer:`, a.answer, width, m(2)));
  }
  for (const j of t.judges) {
    lines.push(...field(`Judge ${j.label}:`, j.line + (j.rubric ? ` · rubric ${j.rubric}` : ""), width, m(2)));
    lines.push(...field("  why:", j.rationale, width, m(1)));
  }
  lines.push(...field("Jury:", t.jury, width, m(2)));
  return lines;
}
