// CMB-Clin (CMB benchmark, 2024): clinical case records, each with a sequence of questions and answers about it.
// One case per question; later questions carry the earlier questions and reference answers as conversation history.
import { z } from "zod";
import type { Message } from "../schema.js";
import {
  caseId, checkTaskId, datasetName, finishImport, provenance, readJsonRecords, readSourceText, SkipRecord, slug, splitKeyPoints, zodSkip,
  type Draft, type ImportOptions, type ImportProblem, type ImportResult, type Where,
} from "./shared.js";

const recordSchema = z.looseObject({
  id: z.union([z.string().trim().min(1), z.number()]),
  title: z.string().optional(),
  description: z.string().trim().min(1, "the case description is empty"),
  QA_pairs: z.array(z.looseObject({ question: z.unknown(), answer: z.unknown() })).min(1, "no question/answer pairs"),
});

export function importCmbClin(opts: ImportOptions): ImportResult {
  const dataset = datasetName(opts, "CMB-Clin");
  const prefix = slug(dataset) || "cmb-clin";
  const text = readSourceText(opts.file);
  const { records, skipped: unreadable } = readJsonRecords(text, opts.file);
  const taskId = opts.task ?? "DA01";
  // An open or dialogue task takes the history as input.messages as it is; other formats get open and a format note.
  const format = opts.tax.task(taskId)?.format === "dialogue" ? "dialogue" : "open";

  // Units are questions; a record that cannot be read at all counts as one.
  let units = unreadable.length;
  const drafts: Draft[] = [];
  const skipped: ImportProblem[] = [...unreadable];
  for (const r of records) {
    const parsed = recordSchema.safeParse(r.value);
    if (!parsed.success) {
      const s = zodSkip(parsed.error);
      const sourceId = typeof r.value === "object" && r.value ? (r.value as { id?: unknown }).id : undefined;
      skipped.push({ file: opts.file, ...r.where, ...(sourceId !== undefined ? { sourceId: String(sourceId) } : {}), field: s.field, reason: s.message });
      units++;
      continue;
    }
    const c = parsed.data;
    const sourceId = String(c.id).trim();
    const description = c.description.trim();
    const history: Message[] = [];
    c.QA_pairs.forEach((qa, k) => {
      units++;
      const where: Where = { ...r.where, record: `${r.where.record ? `${r.where.record} ` : ""}question ${k + 1}`, sourceId };
      const question = typeof qa.question === "string" ? qa.question.trim() : "";
      const answer = typeof qa.answer === "string" ? qa.answer.trim() : "";
      const first = history.length === 0;
      const opening = { role: "user" as const, content: `${description}\n\n${question}` };
      // A dialogue case always needs messages; an open first question reads better as context + question.
      const input = first
        ? (format === "dialogue" ? { messages: [opening] } : { context: description, question })
        : { messages: [...history, { role: "user" as const, content: question }] };
      // The description opens the conversation, so later questions read in order after it.
      history.push(first ? opening : { role: "user", content: question });
      history.push({ role: "assistant", content: answer });
      try {
        if (!question) throw new SkipRecord(`QA_pairs.${k}.question`, "empty question");
        if (!answer) throw new SkipRecord(`QA_pairs.${k}.answer`, "empty reference answer");
        checkTaskId(opts.tax, taskId, "task");
      } catch (err) {
        if (!(err instanceof SkipRecord)) throw err;
        skipped.push({ file: opts.file, ...where, field: err.field, reason: err.message });
        return;
      }
      const keyPoints = splitKeyPoints(answer);
      drafts.push({
        where,
        raw: {
          id: caseId(prefix, `${sourceId}.q${k + 1}`),
          task: taskId,
          format,
          input,
          reference: { answer, keyPoints: keyPoints.length ? keyPoints : [answer] },
          provenance: provenance({
            dataset, file: opts.file, sourceId, text: `${description}\n${question}`,
            note: `${c.title?.trim() ? `${c.title.trim()}; ` : ""}question ${k + 1} of ${c.QA_pairs.length}; key points split from the reference answer`,
          }),
        },
      });
    });
  }
  return finishImport("cmb-clin", dataset, opts, { units, drafts, skipped, notes: [] });
}
