// HealthBench (OpenAI, 2025): JSONL of conversations graded by physician-written rubrics with signed points.
import { z } from "zod";
import type { Message } from "../schema.js";
import {
  caseId, checkTaskId, datasetName, finishImport, mapRecords, provenance, readJsonRecords, readSourceText, SkipRecord, slug, zodSkip,
  type ImportOptions, type ImportResult,
} from "./shared.js";

/** theme:* tag → task. context_seeking goes to WF12: the candidate must notice what is missing and ask or hedge. */
export const HEALTHBENCH_THEMES: Record<string, string> = {
  emergency_referrals: "WF05",
  hedging: "WF12",
  context_seeking: "WF12",
  communication: "GA05",
  health_data_tasks: "GA02",
  global_health: "WF10",
  complex_responses: "WF11",
};

const recordSchema = z.looseObject({
  prompt_id: z.union([z.string().trim().min(1), z.number()]),
  prompt: z.array(z.looseObject({ role: z.enum(["system", "user", "assistant"]), content: z.string() })).min(1, "the prompt has no turns"),
  rubrics: z.array(z.looseObject({ criterion: z.unknown(), points: z.unknown(), tags: z.array(z.string()).optional() })).min(1, "no rubric items"),
  example_tags: z.array(z.string()).optional(),
  ideal_completions_data: z.looseObject({ ideal_completion: z.string().optional() }).nullish(),
});

export function importHealthBench(opts: ImportOptions): ImportResult {
  const dataset = datasetName(opts, "HealthBench");
  const prefix = slug(dataset) || "healthbench";
  const text = readSourceText(opts.file);
  const { records, skipped: unreadable } = readJsonRecords(text, opts.file);

  const mapped = mapRecords(records, opts.file, (r, note) => {
    const parsed = recordSchema.safeParse(r.value);
    if (!parsed.success) throw zodSkip(parsed.error);
    const rec = parsed.data;
    const sourceId = String(rec.prompt_id).trim();
    r.where.sourceId = sourceId;

    const themes = (rec.example_tags ?? []).filter((t) => t.startsWith("theme:")).map((t) => t.slice("theme:".length));
    let taskId = opts.task;
    if (!taskId) {
      const theme = themes[0];
      if (!theme) throw new SkipRecord("example_tags", "no theme:* tag to choose a task from; pass --task");
      taskId = HEALTHBENCH_THEMES[theme];
      if (!taskId) throw new SkipRecord("example_tags", `unknown theme "${theme}" (known: ${Object.keys(HEALTHBENCH_THEMES).join(", ")}); pass --task`);
    }
    const task = opts.tax.task(checkTaskId(opts.tax, taskId, "task"))!;

    const messages: Message[] = rec.prompt.map((m, i) => {
      const content = m.content.trim();
      if (!content) throw new SkipRecord(`prompt.${i}.content`, "empty turn");
      return { role: m.role, content };
    });
    if (messages[messages.length - 1]!.role !== "user") throw new SkipRecord("prompt", "the last turn must be the user's (the candidate writes the next reply)");

    const rubric: { id: string; criterion: string; points: number }[] = [];
    rec.rubrics.forEach((item, i) => {
      const field = `rubrics.${i}`;
      const criterion = typeof item.criterion === "string" ? item.criterion.trim() : "";
      if (!criterion) return note(`${field}.criterion`, "empty criterion: rubric item left out");
      if (typeof item.points !== "number" || !Number.isFinite(item.points)) return note(`${field}.points`, `not a number (${JSON.stringify(item.points)}): rubric item left out`);
      let points = Math.round(item.points);
      if (points !== item.points) note(`${field}.points`, `${item.points} rounded to ${points} (the schema takes whole points)`);
      if (points === 0) return note(`${field}.points`, "0 points: rubric item left out (a 0-point item cannot change a score)");
      if (Math.abs(points) > 20) {
        const clipped = Math.sign(points) * 20;
        note(`${field}.points`, `${points} clipped to ${clipped} (the schema allows −20…20)`);
        points = clipped;
      }
      rubric.push({ id: `r${i + 1}`, criterion, points });
    });
    const keyPoints = rubric.filter((r) => r.points > 0).map((r) => r.criterion);
    if (!keyPoints.length) throw new SkipRecord("rubrics", "no usable positive criterion to serve as a key point (open cases need one)");

    const allText = messages.map((m) => m.content).join("\n");
    const prov = provenance({ dataset, file: opts.file, sourceId, text: allText });
    const ideal = rec.ideal_completions_data?.ideal_completion?.trim();
    const answer = ideal
      || (prov.language === "zh"
        ? `源数据未提供参考答案，以评分细则为准。应包含：${keyPoints.join("；")}`
        : `The source gives no reference answer; the rubric is the reference. A good answer: ${keyPoints.join("; ")}`);

    // The mapped task's format where a conversation can express it; otherwise open (one user turn) or dialogue.
    const single = messages.length === 1 && messages[0]!.role === "user";
    let format: "open" | "dialogue";
    if (task.format === "open" || task.format === "dialogue") format = task.format;
    else format = single ? "open" : "dialogue";
    const input = format === "open" && single ? { question: messages[0]!.content } : { messages };

    const tags = (rec.example_tags ?? []).map((t) => t.trim()).filter(Boolean);
    return [{
      where: r.where,
      raw: {
        id: caseId(prefix, sourceId),
        task: task.id,
        format,
        input,
        reference: { answer, keyPoints, rubric, ...(ideal ? {} : { rationale: prov.language === "zh" ? "参考答案由评分细则代替。" : "The rubric stands in for a reference answer." }) },
        provenance: prov,
        ...(tags.length ? { tags } : {}),
      },
    }];
  });

  return finishImport("healthbench", dataset, opts, {
    units: mapped.units + unreadable.length,
    drafts: mapped.drafts,
    skipped: [...unreadable, ...mapped.skipped],
    notes: mapped.notes,
  });
}
