// PubMedQA (Jin et al., 2019): one JSON object keyed by PMID; each entry a question about an abstract,
// answered yes / no / maybe, with the abstract's conclusion as the long answer. Becomes EK08 (literature comprehension).
import { z } from "zod";
import {
  caseId, checkTaskId, datasetName, detectLanguage, finishImport, mapRecords, provenance, readSourceText, slug, zodSkip,
  type ImportOptions, type ImportResult,
} from "./shared.js";
import { UserError } from "../../util/errors.js";

const DECISION_KEY = { yes: "A", no: "B", maybe: "C" } as const;
const OPTIONS = {
  en: { A: "yes", B: "no", C: "maybe" },
  zh: { A: "是", B: "否", C: "不确定" },
};

const entrySchema = z.looseObject({
  QUESTION: z.string().trim().min(1, "empty question"),
  CONTEXTS: z.array(z.string()).min(1, "no abstract contexts"),
  LABELS: z.array(z.string()).optional(),
  final_decision: z.string({ error: "missing: expected yes, no or maybe" })
    .transform((s) => s.trim().toLowerCase())
    .pipe(z.enum(["yes", "no", "maybe"], { error: "expected yes, no or maybe" })),
  LONG_ANSWER: z.string().optional(),
});

export function importPubMedQA(opts: ImportOptions): ImportResult {
  const dataset = datasetName(opts, "PubMedQA");
  const prefix = slug(dataset) || "pubmedqa";
  const text = readSourceText(opts.file);
  let whole: unknown;
  try {
    whole = JSON.parse(text);
  } catch (err) {
    throw new UserError(`${opts.file}: not valid JSON: ${(err as Error).message}`);
  }
  if (!whole || typeof whole !== "object" || Array.isArray(whole)) {
    throw new UserError(`${opts.file}: expected one JSON object keyed by PMID ({"12345678": {"QUESTION": …}}), as PubMedQA publishes it`);
  }
  const records = Object.entries(whole).map(([pmid, value]) => ({ where: { record: `PMID ${pmid}` }, value: { pmid, value } }));

  const mapped = mapRecords(records, opts.file, (r) => {
    const { pmid, value } = r.value as { pmid: string; value: unknown };
    const parsed = entrySchema.safeParse(value);
    if (!parsed.success) throw zodSkip(parsed.error);
    const e = parsed.data;
    const task = checkTaskId(opts.tax, opts.task ?? "EK08", "task");
    const contexts = e.CONTEXTS.map((c) => c.trim()).filter(Boolean);
    const labelled = e.LABELS && e.LABELS.length === contexts.length
      ? contexts.map((c, i) => `${e.LABELS![i]!.trim()}: ${c}`)
      : contexts;
    const question = e.QUESTION.trim();
    const lang = detectLanguage(`${question}\n${contexts.join("\n")}`);
    const rationale = e.LONG_ANSWER?.trim();
    return [{
      where: r.where,
      raw: {
        id: caseId(prefix, pmid),
        task,
        format: "choice",
        input: { context: labelled.join("\n\n"), question, options: OPTIONS[lang] },
        reference: { answer: DECISION_KEY[e.final_decision], ...(rationale ? { rationale } : {}) },
        provenance: provenance({ dataset, file: opts.file, sourceId: pmid, text: `${question}\n${contexts.join("\n")}` }),
      },
    }];
  });
  return finishImport("pubmedqa", dataset, opts, mapped);
}
