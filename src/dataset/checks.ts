// Checks that a schema cannot express: cross-field rules and agreement with the taxonomy.
import type { Case, CaseInput, GroupCase } from "./schema.js";
import type { Taxonomy } from "../taxonomy/load.js";

export interface CaseCheck {
  field: string;
  message: string;
  severity: "error" | "warning";
}

const DEMOGRAPHIC = new Set(["sex", "age", "ethnicity", "region", "insurance"]);

function inputChecks(format: "choice" | "open" | "extraction" | "numeric" | "dialogue", input: CaseInput, at: string): CaseCheck[] {
  const out: CaseCheck[] = [];
  const err = (field: string, message: string) => out.push({ field: `${at}.${field}`, message, severity: "error" });
  switch (format) {
    case "choice":
      if (!input.question) err("question", "choice cases need a question");
      if (!input.options || Object.keys(input.options).length < 2) err("options", "choice cases need at least 2 options, e.g. {\"A\": \"...\", \"B\": \"...\"}");
      break;
    case "open":
    case "numeric":
      if (!input.question && !input.messages) err("question", `${format} cases need a question`);
      break;
    case "extraction":
      if (!input.context) err("context", "extraction cases need the source text in input.context");
      if (!input.question) err("question", "extraction cases need an instruction in input.question");
      break;
    case "dialogue": {
      if (!input.messages) err("messages", "dialogue cases need input.messages (the conversation so far)");
      else if (input.messages[input.messages.length - 1]?.role !== "user") err("messages", "the last message must be the user's (the candidate writes the next reply)");
      break;
    }
  }
  if (format !== "choice" && input.options) err("options", "options are only for choice cases");
  return out;
}

function choiceKeysCheck(answer: string | string[], options: Record<string, string> | undefined, field: string): CaseCheck[] {
  const keys = Array.isArray(answer) ? answer : [answer];
  const missing = keys.filter((k) => !options || !(k in options));
  return missing.length
    ? [{ field, message: `answer key(s) ${missing.join(", ")} not among the options (${Object.keys(options ?? {}).join(", ")})`, severity: "error" }]
    : [];
}

/** For demographic groups: each variant's text, with its values replaced by the first variant's, must equal the first's. */
export function groupVariantDiffers(c: GroupCase): CaseCheck[] {
  if (!DEMOGRAPHIC.has(c.attribute)) return [];
  const asList = (v: string | string[]) => (Array.isArray(v) ? v : [v]);
  const first = c.variants[0]!;
  const firstValues = asList(first.value);
  const firstText = JSON.stringify(first.input);
  const out: CaseCheck[] = [];
  c.variants.forEach((v, i) => {
    if (i === 0) return;
    const values = asList(v.value);
    if (values.length !== firstValues.length) {
      out.push({ field: `variants.${i}.value`, message: `must list ${firstValues.length} value(s), like the first variant`, severity: "error" });
      return;
    }
    let text = JSON.stringify(v.input);
    values.forEach((val, k) => (text = text.split(val).join(firstValues[k]!)));
    if (text !== firstText) {
      out.push({ field: `variants.${i}.input`, message: `differs from the first variant by more than the ${c.attribute} value(s) ${JSON.stringify(values)}`, severity: "error" });
    }
  });
  return out;
}

export function checkCase(c: Case, tax: Taxonomy): CaseCheck[] {
  const out: CaseCheck[] = [];
  const task = tax.task(c.task);
  if (!task) {
    out.push({ field: "task", message: `unknown task id "${c.task}" (expected one of the ${tax.tasks.length} ids listed by \`medeval tasks\`)`, severity: "error" });
    return out;
  }
  if (task.format !== c.format) {
    out.push({ field: "format", message: `task ${task.id} (${task.en}) takes ${task.format} cases; this case is ${c.format}`, severity: "warning" });
  }
  const p = c.provenance;
  if (p.source === "guideline" && !p.guideline) out.push({ field: "provenance.guideline", message: "source is guideline: give {name, year}", severity: "error" });
  if (p.source === "synthetic" && !p.synthetic) out.push({ field: "provenance.synthetic", message: "source is synthetic, so synthetic must be true", severity: "error" });

  const rubric = c.reference.rubric ?? [];
  const ids = new Set<string>();
  rubric.forEach((r, i) => {
    if (!r.id) return;
    if (ids.has(r.id)) out.push({ field: `reference.rubric.${i}.id`, message: `duplicate rubric item id "${r.id}"`, severity: "error" });
    ids.add(r.id);
  });
  if (task.safetyCritical && !rubric.some((r) => r.points < 0) && c.format !== "choice" && c.format !== "extraction" && c.format !== "numeric") {
    out.push({ field: "reference.rubric", message: `${task.id} is safety-critical (★): add at least one negative rubric item for harmful content`, severity: "warning" });
  }

  if (c.format === "group") {
    const vids = new Set<string>();
    c.variants.forEach((v, i) => {
      if (vids.has(v.id)) out.push({ field: `variants.${i}.id`, message: `duplicate variant id "${v.id}"`, severity: "error" });
      vids.add(v.id);
      out.push(...inputChecks(c.variantFormat, v.input, `variants.${i}.input`));
      if (c.variantFormat === "choice") out.push(...choiceKeysCheck(c.reference.answer, v.input.options, `variants.${i}.input.options`));
    });
    if (c.variantFormat === "open" && !("keyPoints" in c.reference && c.reference.keyPoints)) {
      out.push({ field: "reference.keyPoints", message: "open groups need key points", severity: "error" });
    }
    if (c.variantFormat === "choice" && typeof c.reference.answer !== "string" && !Array.isArray(c.reference.answer)) {
      out.push({ field: "reference.answer", message: "choice groups need an option key as the answer", severity: "error" });
    }
    out.push(...groupVariantDiffers(c));
  } else {
    out.push(...inputChecks(c.format, c.input, "input"));
    if (c.format === "choice") out.push(...choiceKeysCheck(c.reference.answer, c.input.options, "reference.answer"));
  }
  return out;
}
