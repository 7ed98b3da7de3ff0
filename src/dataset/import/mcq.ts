// Licensing-exam multiple choice (MedQA, MedMCQA, CMExam and spreadsheets like them), CSV or JSON/JSONL.
// Options come as an object, as one field per option, or as one text with one option per line; the answer as
// letters, an option field name (opa), a 1-based index (MedMCQA cop) or the option's text.
import path from "node:path";
import {
  caseId, cellText, checkMappedColumns, checkTaskId, datasetName, fileStem, finishImport, idText, mapRecords, parseBool, parseDifficulty,
  provenance, readCsvRecords, readJsonRecords, readSourceText, resolveColumn, SkipRecord, slug,
  type Draft, type ImportOptions, type ImportProblem, type ImportResult, type SourceRecord, type Where,
} from "./shared.js";

const LETTERS = "ABCDEFGHIJ".split("");

export const MCQ_FIELDS = ["id", "question", "options", "answer", "explanation", "task", "specialty", "difficulty", "synthetic", ...LETTERS] as const;

/** Header names tried for each field when --map does not name a column (first match wins). */
export const MCQ_CANDIDATES: Record<string, string[]> = {
  id: ["id", "_id", "qid", "question_id", "uid", "编号", "题号", "序号"],
  question: ["question", "stem", "题目", "题干", "问题", "试题"],
  options: ["options", "choices", "option", "选项"],
  answer: ["answer_idx", "answer", "cop", "correct_option", "correct_answer", "correct", "label", "答案", "正确答案", "参考答案"],
  explanation: ["exp", "explanation", "rationale", "analysis", "解析", "答案解析", "分析"],
  specialty: ["specialty", "科室", "专业"],
  difficulty: ["difficulty", "难度"],
  synthetic: ["synthetic"],
};

/** Separate per-option fields: opa, option_A, optionA, A, 选项A. */
function optionFieldNames(letter: string): string[] {
  const l = letter.toLowerCase();
  return [`op${l}`, `option_${letter}`, `option_${l}`, `option${letter}`, `option ${letter}`, letter, `选项${letter}`];
}

/** Which letter an option field name stands for ("opa" → A), or undefined. */
function letterOfFieldName(name: string): string | undefined {
  const m = /^(?:op|option[_ ]?|选项)([a-j])$/i.exec(name.trim());
  return m ? m[1]!.toUpperCase() : undefined;
}

/**
 * "A 原发病\nB 继发病", "A. …", "A、…", "(A) …", with real line breaks or a literal backslash-n between options.
 * A line without a letter continues the option before it.
 */
export function parseOptionText(text: string, field: string): Record<string, string> {
  const lines = text.split(/\r?\n|\\n/).map((l) => l.trim()).filter(Boolean);
  const out: Record<string, string> = {};
  let last: string | undefined;
  for (const line of lines) {
    const m = /^[(（]?([A-J])(?:\s*[.．、:：)）]\s*|\s+|(?=[^\x00-\x7F]))(.*)$/.exec(line) ?? /^[(（]?([a-j])\s*[.．、:：)）]\s*(.*)$/.exec(line);
    if (m) {
      const key = m[1]!.toUpperCase();
      if (key in out) throw new SkipRecord(field, `option ${key} appears twice`);
      out[key] = m[2]!.trim();
      last = key;
    } else if (last) {
      out[last] = `${out[last]} ${line}`.trim();
    } else {
      throw new SkipRecord(field, `cannot read "${line.slice(0, 40)}" as an option: expected one option per line, each starting with its letter ("A 原发病", "A. …", "A、…")`);
    }
  }
  return out;
}

function optionsFromValue(v: unknown, field: string): Record<string, string> {
  if (typeof v === "string") return parseOptionText(v, field);
  if (Array.isArray(v)) {
    if (v.length > LETTERS.length) throw new SkipRecord(field, `${v.length} options; at most ${LETTERS.length} (A–J)`);
    return Object.fromEntries(v.map((o, i) => [LETTERS[i]!, cellText(o) ?? ""]));
  }
  if (v && typeof v === "object") {
    const out: Record<string, string> = {};
    for (const [k, o] of Object.entries(v)) {
      const key = k.trim().toUpperCase();
      if (!LETTERS.includes(key)) throw new SkipRecord(`${field}.${k}`, "option keys must be letters A–J");
      out[key] = cellText(o) ?? "";
    }
    return out;
  }
  throw new SkipRecord(field, "expected an object {\"A\": …}, a list, or one option per line");
}

/** Answer → option key(s). */
export function parseAnswer(v: unknown, column: string, options: Record<string, string>): string | string[] {
  const field = column;
  const one = (x: unknown): string[] => {
    if (typeof x === "number" || (typeof x === "string" && /^\s*\d+\s*$/.test(x))) {
      const n = Number(x);
      const key = LETTERS[n - 1];
      if (!Number.isInteger(n) || !key) throw new SkipRecord(field, `${x} is not a 1-based option number (1 = A)`);
      return [key];
    }
    if (typeof x !== "string" || !x.trim()) throw new SkipRecord(field, "no answer");
    const t = x.trim().replace(/^(?:答案|answer)\s*[:：]\s*/i, "").replace(/[。.]$/, "");
    const byField = letterOfFieldName(t);
    if (byField) return [byField];
    // The option's own text first, so an answer like "CAD" is not read as the letters C, A, D.
    const byText = Object.entries(options).filter(([, o]) => o === t).map(([k]) => k);
    if (byText.length === 1) return byText;
    if (/^[A-J](?:\s*[,，、;；/ ]?\s*[A-J])*$/i.test(t)) return t.toUpperCase().match(/[A-J]/g)!;
    throw new SkipRecord(field, `"${t.slice(0, 40)}" is not an option letter (A, AC, A,C), an option field (opa), a 1-based number or an option's exact text`);
  };
  const keys = [...new Set(Array.isArray(v) ? v.flatMap(one) : one(v))].sort();
  return keys.length === 1 ? keys[0]! : keys;
}

export interface ChoiceColumns {
  question?: string;
  options?: string;
  optionFields: Record<string, string>;
  answer?: string;
}

/** Decides the option columns once for a file: --map, then a combined options field, then separate fields. */
export function choiceColumns(map: Record<string, string>, keys: string[]): ChoiceColumns {
  const optionFields: Record<string, string> = {};
  for (const l of LETTERS) if (map[l]) optionFields[l] = map[l]!;
  const options = map.options ?? (Object.keys(optionFields).length ? undefined : resolveColumn(keys, MCQ_CANDIDATES.options!));
  if (!options && !Object.keys(optionFields).length) {
    for (const l of LETTERS) {
      const col = resolveColumn(keys, optionFieldNames(l));
      if (col) optionFields[l] = col;
    }
  }
  return {
    question: map.question ?? resolveColumn(keys, MCQ_CANDIDATES.question!),
    options,
    optionFields,
    answer: map.answer ?? resolveColumn(keys, MCQ_CANDIDATES.answer!),
  };
}

/** The question, options and answer of one row. */
export function choiceParts(row: Record<string, unknown>, cols: ChoiceColumns): { question: string; options: Record<string, string>; answer: string | string[] } {
  if (!cols.question) throw new SkipRecord("question", `no question column (looked for ${MCQ_CANDIDATES.question!.join(", ")}; use --map question=COLUMN)`);
  const question = cellText(row[cols.question]);
  if (!question) throw new SkipRecord(cols.question, "empty question");
  let options: Record<string, string>;
  if (cols.options) {
    options = optionsFromValue(row[cols.options], cols.options);
  } else if (Object.keys(cols.optionFields).length) {
    options = {};
    for (const [l, col] of Object.entries(cols.optionFields)) {
      const t = cellText(row[col]);
      if (t) options[l] = t; // a 4-option row in a 5-option sheet leaves E empty: not an option
    }
  } else {
    throw new SkipRecord("options", "no options: expected an options field, opa…ope, option_A…, A/B/C/D columns or --map options=COLUMN");
  }
  for (const [k, o] of Object.entries(options)) if (!o) throw new SkipRecord(cols.options ?? cols.optionFields[k] ?? "options", `option ${k} is empty`);
  if (!cols.answer) throw new SkipRecord("answer", `no answer column (looked for ${MCQ_CANDIDATES.answer!.join(", ")}; use --map answer=COLUMN)`);
  const answer = parseAnswer(row[cols.answer], cols.answer, options);
  return { question, options, answer };
}

/** The row's own id (the id column, or --map id=COLUMN), if it has one. */
export function rowSourceId(row: Record<string, unknown>, map: Record<string, string>, keys: string[]): string | undefined {
  const c = map.id ?? resolveColumn(keys, MCQ_CANDIDATES.id!);
  return c ? idText(row[c]) : undefined;
}

/** Provenance-related columns shared by mcq and csv rows. */
export function rowMeta(row: Record<string, unknown>, map: Record<string, string>, keys: string[], opts: ImportOptions, defaultTask: string | undefined) {
  const col = (f: string) => map[f] ?? (MCQ_CANDIDATES[f] ? resolveColumn(keys, MCQ_CANDIDATES[f]!) : undefined);
  const get = (f: string) => {
    const c = col(f);
    return c ? cellText(row[c]) : undefined;
  };
  const taskCell = map.task ? cellText(row[map.task]) : undefined;
  const taskRaw = opts.task ?? taskCell ?? defaultTask;
  if (!taskRaw) throw new SkipRecord(map.task ?? "task", "no task: pass --task ID or --map task=COLUMN");
  return {
    sourceId: rowSourceId(row, map, keys),
    task: checkTaskId(opts.tax, taskRaw, opts.task ? "task" : (map.task ?? "task")),
    explanation: get("explanation") ?? get("rationale"),
    specialty: get("specialty"),
    difficulty: parseDifficulty(get("difficulty"), col("difficulty") ?? "difficulty"),
    synthetic: parseBool(get("synthetic"), col("synthetic") ?? "synthetic"),
  };
}

/** Records of a CSV or JSON/JSONL file, with the union of their keys. */
export function readRows(file: string): { rows: SourceRecord[]; keys: string[]; skipped: ImportProblem[]; csv: boolean } {
  const text = readSourceText(file);
  if (path.extname(file).toLowerCase() === ".csv") {
    const { header, rows, skipped } = readCsvRecords(text, file);
    return { rows, keys: header, skipped, csv: true };
  }
  const { records, skipped } = readJsonRecords(text, file);
  const keys = new Set<string>();
  for (const r of records) if (r.value && typeof r.value === "object" && !Array.isArray(r.value)) Object.keys(r.value).forEach((k) => keys.add(k));
  return { rows: records, keys: [...keys], skipped, csv: false };
}

export function asRow(r: SourceRecord): Record<string, unknown> {
  if (!r.value || typeof r.value !== "object" || Array.isArray(r.value)) throw new SkipRecord("", "expected a JSON object (one question per record)");
  return r.value as Record<string, unknown>;
}

export function rowLabel(where: Where): string {
  return where.line !== undefined ? `line ${where.line}` : (where.record ?? "record");
}

export function importMcq(opts: ImportOptions): ImportResult {
  const dataset = datasetName(opts, fileStem(opts.file));
  const prefix = slug(dataset) || "mcq";
  const { rows, keys, skipped: unreadable, csv } = readRows(opts.file);
  checkMappedColumns(opts.map, new Set(keys), opts.file);
  const fileCols = choiceColumns(opts.map, keys);

  const mapped = mapRecords(rows, opts.file, (r): Draft[] => {
    const row = asRow(r);
    // CSV rows share the header; JSON records may each carry a different subset of fields (answer_idx or answer).
    const rowKeys = csv ? keys : Object.keys(row);
    const cols = csv ? fileCols : choiceColumns(opts.map, rowKeys);
    r.where.sourceId = rowSourceId(row, opts.map, rowKeys);
    const meta = rowMeta(row, opts.map, rowKeys, opts, "EK02");
    const { question, options, answer } = choiceParts(row, cols);
    const sourceKey = meta.sourceId ?? rowLabel(r.where).replace(/\s+/g, "");
    return [{
      where: r.where,
      raw: {
        id: caseId(prefix, sourceKey),
        task: meta.task,
        format: "choice",
        input: { question, options },
        reference: { answer, ...(meta.explanation ? { rationale: meta.explanation } : {}) },
        provenance: provenance({
          dataset, file: opts.file, sourceId: meta.sourceId, text: `${question}\n${Object.values(options).join("\n")}`,
          specialty: meta.specialty, difficulty: meta.difficulty, synthetic: meta.synthetic,
          ...(meta.sourceId ? {} : { note: `no id in the source: id made from ${rowLabel(r.where)}` }),
        }),
      },
    }];
  });
  return finishImport("mcq", dataset, opts, {
    units: mapped.units + unreadable.length,
    drafts: mapped.drafts,
    skipped: [...unreadable, ...mapped.skipped],
    notes: mapped.notes,
  });
}
