// A centre's own spreadsheet: one case per row, columns named by --map (or by the usual headers, 中文 or English).
import {
  caseId, cellText, checkMappedColumns, datasetName, fileStem, finishImport, mapRecords, provenance, readCsvRecords, readSourceText,
  resolveColumn, SkipRecord, slug, splitKeyPoints,
  type Draft, type ImportOptions, type ImportResult,
} from "./shared.js";
import { asRow, choiceColumns, choiceParts, MCQ_FIELDS, rowLabel, rowMeta, rowSourceId } from "./mcq.js";
import { UserError } from "../../util/errors.js";

export const CSV_FIELDS = [...MCQ_FIELDS, "context", "rationale", "keyPoints", "rubric", "unit", "tolerance"] as const;

const CANDIDATES: Record<string, string[]> = {
  context: ["context", "record", "病历", "病例", "病史", "资料", "材料", "病例摘要"],
  answer: ["answer", "reference", "参考答案", "答案", "标准答案"],
  keyPoints: ["keyPoints", "key_points", "得分点", "要点", "评分要点"],
  rubric: ["rubric", "评分细则", "评分标准"],
  unit: ["unit", "单位"],
  tolerance: ["tolerance", "容差", "允许误差", "误差"],
};

/** Default numeric tolerance when the sheet has no tolerance column: 1 % of the answer. */
export const DEFAULT_TOLERANCE = { rel: 0.01 };

/** "+5 指出…" / "-8：推荐…" / "5 xxx", one item per line. */
function parseRubric(text: string, field: string): { id: string; criterion: string; points: number }[] {
  return text.split(/\r?\n|\\n/).map((l) => l.trim()).filter(Boolean).map((line, i) => {
    const m = /^([+-]?\d+)\s*(?:分)?\s*[:：,，]?\s*(.+)$/.exec(line);
    if (!m) throw new SkipRecord(field, `line ${i + 1} "${line.slice(0, 30)}": expected points then the criterion, e.g. "+5 指出…" or "-8 推荐禁忌药物"`);
    const points = Number(m[1]);
    if (points === 0 || Math.abs(points) > 20) throw new SkipRecord(field, `line ${i + 1}: points must be a non-zero whole number from −20 to 20`);
    return { id: `r${i + 1}`, criterion: m[2]!.trim(), points };
  });
}

function parseTolerance(text: string, field: string): { abs?: number; rel?: number } {
  const pct = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(text);
  if (pct) return { rel: Number(pct[1]) / 100 };
  const n = Number(text);
  if (text.trim() && Number.isFinite(n) && n >= 0) return { abs: n };
  throw new SkipRecord(field, `"${text}" is not a tolerance (expected an absolute amount like 0.5, or a percentage like 5%)`);
}

export function importCsv(opts: ImportOptions): ImportResult {
  const format = opts.format;
  if (!format) throw new UserError("--from csv needs --format choice, open or numeric");
  const dataset = datasetName(opts, fileStem(opts.file));
  const prefix = slug(dataset) || "csv";
  const { header, rows, skipped: unreadable } = readCsvRecords(readSourceText(opts.file), opts.file);
  checkMappedColumns(opts.map, new Set(header), opts.file);
  if (!opts.task && !opts.map.task) throw new UserError("--from csv needs --task ID, or --map task=COLUMN for a task id per row");
  const col = (f: string) => opts.map[f] ?? (CANDIDATES[f] ? resolveColumn(header, CANDIDATES[f]!) : undefined);
  const choiceCols = choiceColumns(opts.map, header);
  const questionCol = choiceCols.question;
  const notes = [];
  if (format === "numeric" && !col("tolerance")) {
    notes.push({ file: opts.file, field: "tolerance", reason: `no tolerance column: every case gets ${JSON.stringify(DEFAULT_TOLERANCE)} (map one with --map tolerance=COLUMN)` });
  }

  const mapped = mapRecords(rows, opts.file, (r, note): Draft[] => {
    const row = asRow(r);
    r.where.sourceId = rowSourceId(row, opts.map, header);
    const meta = rowMeta(row, opts.map, header, opts, undefined);
    const text = (f: string) => {
      const c = col(f);
      return c ? cellText(row[c]) : undefined;
    };
    const context = text("context");
    let input: Record<string, unknown>;
    let reference: Record<string, unknown>;
    if (format === "choice") {
      const p = choiceParts(row, choiceCols);
      input = { ...(context ? { context } : {}), question: p.question, options: p.options };
      reference = { answer: p.answer };
    } else {
      const question = questionCol ? cellText(row[questionCol]) : undefined;
      if (!question) throw new SkipRecord(questionCol ?? "question", questionCol ? "empty question" : "no question column: use --map question=COLUMN");
      input = { ...(context ? { context } : {}), question };
      const answerCol = col("answer");
      const answer = text("answer");
      if (!answer) throw new SkipRecord(answerCol ?? "answer", answerCol ? "empty answer" : "no answer column: use --map answer=COLUMN");
      if (format === "open") {
        const kpText = text("keyPoints");
        let keyPoints = kpText ? kpText.split(/\r?\n|\\n|[；;]/).map((s) => s.trim()).filter(Boolean) : [];
        if (!keyPoints.length) {
          keyPoints = splitKeyPoints(answer);
          if (!keyPoints.length) keyPoints = [answer];
          note(col("keyPoints") ?? "keyPoints", "no key points given: split from the reference answer");
        }
        const rubricText = text("rubric");
        reference = { answer, keyPoints, ...(rubricText ? { rubric: parseRubric(rubricText, col("rubric")!) } : {}) };
      } else {
        const n = Number(answer.replace(/,/g, ""));
        if (!Number.isFinite(n)) throw new SkipRecord(answerCol!, `"${answer}" is not a number`);
        const tolText = text("tolerance");
        reference = {
          answer: n,
          unit: text("unit") ?? "",
          tolerance: tolText ? parseTolerance(tolText, col("tolerance")!) : DEFAULT_TOLERANCE,
        };
      }
    }
    if (meta.explanation) reference.rationale = meta.explanation;
    const allText = [context, input.question, ...Object.values((input.options as Record<string, string>) ?? {})].filter(Boolean).join("\n");
    return [{
      where: r.where,
      raw: {
        id: caseId(prefix, meta.sourceId ?? rowLabel(r.where).replace(/\s+/g, "")),
        task: meta.task,
        format,
        input,
        reference,
        provenance: provenance({
          dataset, file: opts.file, sourceId: meta.sourceId, text: allText,
          specialty: meta.specialty, difficulty: meta.difficulty, synthetic: meta.synthetic,
          ...(meta.sourceId ? {} : { note: `no id in the source: id made from ${rowLabel(r.where)}` }),
        }),
      },
    }];
  });
  return finishImport("csv", dataset, opts, {
    units: mapped.units + unreadable.length,
    drafts: mapped.drafts,
    skipped: [...unreadable, ...mapped.skipped],
    notes: [...notes, ...mapped.notes],
  });
}
