import { describe, expect, it } from "vitest";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parse as parseCsv } from "csv-parse/sync";
import { loadTaxonomy } from "../src/taxonomy/load.js";
import { parseCaseRecord } from "../src/dataset/load.js";
import { runImport, type ImportResult } from "../src/dataset/import/index.js";
import { caseId, detectLanguage } from "../src/dataset/import/shared.js";
import { parseOptionText } from "../src/dataset/import/mcq.js";
import { HEALTHBENCH_THEMES } from "../src/dataset/import/healthbench.js";
import type { Case } from "../src/dataset/schema.js";
import { UserError } from "../src/util/errors.js";
import { projectPath } from "../src/util/paths.js";
import { cli, tempDir } from "./helpers.js";

const tax = loadTaxonomy();
const FIX = projectPath("test", "fixtures", "import");
const fx = (name: string) => path.join(FIX, name);

// Record counts straight from the fixture files, independent of the importers.
const jsonlRecords = (name: string) => readFileSync(fx(name), "utf8").split("\n").filter((l) => l.trim()).length;
const csvRecords = (name: string) =>
  (parseCsv(readFileSync(fx(name), "utf8"), { bom: true, relax_column_count: true, skip_empty_lines: true }) as string[][]).length - 1;
const jsonlLine = (name: string, line: number) => JSON.parse(readFileSync(fx(name), "utf8").split("\n")[line - 1]!) as Record<string, any>;

function imp(from: string, name: string, extra: { task?: string; map?: string[]; format?: string; dataset?: string } = {}): ImportResult {
  return runImport({ from, file: fx(name), tax, ...extra });
}

/** Importers never produce group cases, so every case has its own input. */
type Imported = Exclude<Case, { format: "group" }>;
const byId = (r: ImportResult, id: string): Imported => {
  const c = r.cases.find((x) => x.id === id);
  if (!c || c.format === "group") throw new Error(`no case ${id} among ${r.cases.map((x) => x.id).join(", ")}`);
  return c;
};

/** Every imported case passes the project's own validator with no errors. */
function expectAllValid(r: ImportResult) {
  for (const c of r.cases) {
    const res = parseCaseRecord(JSON.parse(JSON.stringify(c)), r.file, 0, tax);
    expect(res.issues.filter((i) => i.severity === "error"), c.id).toEqual([]);
  }
}

/** Imported + skipped equals the records in the file; every skip has a location and a reason. */
function expectNoneLost(r: ImportResult, records: number) {
  expect(r.units).toBe(records);
  expect(r.cases.length + r.skipped.length).toBe(records);
  for (const s of r.skipped) {
    expect(s.line !== undefined || s.record !== undefined, JSON.stringify(s)).toBe(true);
    expect(s.reason.length).toBeGreaterThan(3);
  }
}

const skipAt = (r: ImportResult) => r.skipped.map((s) => [s.line ?? s.record, s.field]);

describe("healthbench importer", () => {
  const r = imp("healthbench", "healthbench.jsonl");

  it("imports the good records, skips each bad one with its line, field and reason", () => {
    expectNoneLost(r, jsonlRecords("healthbench.jsonl"));
    expect(r.cases).toHaveLength(4);
    expect(skipAt(r)).toEqual([[5, "rubrics"], [6, ""], [7, "example_tags"], [8, "rubrics"], [9, "prompt"], [10, "id"]]);
    expect(r.skipped[0]!.reason).toMatch(/missing/);
    expect(r.skipped[1]!.reason).toMatch(/not valid JSON/);
    expect(r.skipped[2]!.reason).toMatch(/unknown theme "astrology".*--task/);
    expect(r.skipped[3]!.reason).toMatch(/positive criterion/);
    expect(r.skipped[4]!.reason).toMatch(/last turn/);
    expect(r.skipped[5]!.reason).toMatch(/duplicate id.*healthbench\.jsonl:1/);
    expectAllValid(r);
  });

  it("maps themes to tasks and keeps a single user turn as an open question", () => {
    const src = jsonlLine("healthbench.jsonl", 1);
    const c = byId(r, "healthbench:synthetic-hb-0001");
    expect(c.task).toBe(HEALTHBENCH_THEMES.emergency_referrals);
    expect(c.format).toBe("open");
    expect(c.input).toEqual({ question: src.prompt[0].content });
    expect(byId(r, "healthbench:synthetic-hb-0002").task).toBe("WF12");
    expect(byId(r, "healthbench:synthetic-hb-0004").task).toBe("WF10");
  });

  it("turns rubric points into signed items: 0-point items left out, the rest clipped to ±20, each change noted", () => {
    const src = jsonlLine("healthbench.jsonl", 1);
    const c = byId(r, "healthbench:synthetic-hb-0001");
    const expected = (src.rubrics as { criterion: string; points: number }[])
      .filter((x) => x.points !== 0)
      .map((x) => ({ criterion: x.criterion, points: Math.max(-20, Math.min(20, x.points)) }));
    expect(c.reference.rubric!.map(({ criterion, points }) => ({ criterion, points }))).toEqual(expected);
    expect(c.reference.rubric!.some((x) => x.points < 0)).toBe(true);
    expect((c.reference as { keyPoints: string[] }).keyPoints).toEqual(expected.filter((x) => x.points > 0).map((x) => x.criterion));
    expect(c.reference.answer).toBe(src.ideal_completions_data.ideal_completion);
    const notes = r.notes.filter((n) => n.line === 1).map((n) => [n.field, n.reason]);
    expect(notes).toEqual([
      ["rubrics.0.points", expect.stringMatching(/25 clipped to 20/)],
      ["rubrics.3.points", expect.stringMatching(/0 points/)],
    ]);
  });

  it("keeps a conversation as messages, says the rubric is the reference when there is no ideal answer, and detects Chinese", () => {
    const src = jsonlLine("healthbench.jsonl", 2);
    const c = byId(r, "healthbench:synthetic-hb-0002");
    expect(c.format).toBe("open");
    expect(c.input.messages).toEqual(src.prompt);
    expect(c.reference.answer).toMatch(/评分细则/);
    expect(c.provenance).toMatchObject({ language: "zh", source: "public-dataset", dataset: "HealthBench", origin: "healthbench.jsonl", originId: "synthetic-hb-0002", synthetic: false, difficulty: "common" });
    expect(byId(r, "healthbench:synthetic-hb-0001").provenance.language).toBe("en");
    expect(c.tags).toEqual(src.example_tags);
  });

  it("a theme whose task format a conversation cannot express stays open, with the validator's format warning as a note", () => {
    const c = byId(r, "healthbench:synthetic-hb-0003");
    expect(c.task).toBe("GA02");
    expect(tax.task("GA02")!.format).toBe("extraction");
    expect(c.format).toBe("open");
    expect(r.notes.filter((n) => n.line === 3).map((n) => n.field)).toEqual(["format"]);
  });

  it("--task overrides the theme; a dialogue task gets the dialogue format", () => {
    const r2 = imp("healthbench", "healthbench.jsonl", { task: "WF02" });
    expect(new Set(r2.cases.map((c) => c.task))).toEqual(new Set(["WF02"]));
    expect(new Set(r2.cases.map((c) => c.format))).toEqual(new Set(["dialogue"]));
    // With --task, the unknown theme no longer matters: that record imports.
    expect(r2.cases.map((c) => c.id)).toContain("healthbench:synthetic-hb-0007");
    expectNoneLost(r2, jsonlRecords("healthbench.jsonl"));
    expectAllValid(r2);
  });
});

describe("cmb-clin importer", () => {
  const src = JSON.parse(readFileSync(fx("cmb-clin.json"), "utf8")) as { id: number; description: string; QA_pairs?: { question: string; answer: string }[] }[];
  const units = src.reduce((n, rec) => n + (Array.isArray(rec.QA_pairs) ? rec.QA_pairs.length : 1), 0);
  const r = imp("cmb-clin", "cmb-clin.json");

  it("makes one case per question and accounts for every question", () => {
    expectNoneLost(r, units);
    expect(r.cases.map((c) => c.id)).toEqual(["cmb-clin:1.q1", "cmb-clin:1.q2", "cmb-clin:1.q3", "cmb-clin:3.q1"]);
    expect(skipAt(r)).toEqual([["record 2", "QA_pairs"], ["record 3 question 2", "QA_pairs.1.answer"]]);
    expect(new Set(r.cases.map((c) => c.task))).toEqual(new Set(["DA01"]));
    expectAllValid(r);
  });

  it("uses the description as context, then earlier questions and answers as history", () => {
    const rec = src[0]!;
    const qa = rec.QA_pairs!;
    expect(byId(r, "cmb-clin:1.q1").input).toEqual({ context: rec.description, question: qa[0]!.question });
    const q3 = byId(r, "cmb-clin:1.q3");
    expect(q3.input.messages).toEqual([
      { role: "user", content: `${rec.description}\n\n${qa[0]!.question}` },
      { role: "assistant", content: qa[0]!.answer },
      { role: "user", content: qa[1]!.question },
      { role: "assistant", content: qa[1]!.answer },
      { role: "user", content: qa[2]!.question },
    ]);
    expect(q3.reference.answer).toBe(qa[2]!.answer);
    expect((q3.reference as { keyPoints: string[] }).keyPoints.length).toBeGreaterThan(1);
    expect(q3.provenance).toMatchObject({ dataset: "CMB-Clin", origin: "cmb-clin.json", originId: "1", language: "zh" });
  });

  it("reads JSONL too, skipping a broken line", () => {
    const r2 = imp("cmb-clin", "cmb-clin.jsonl");
    expectNoneLost(r2, jsonlRecords("cmb-clin.jsonl"));
    expect(r2.cases.map((c) => c.id)).toEqual(["cmb-clin:c-10.q1"]);
    expect(skipAt(r2)).toEqual([[2, ""]]);
  });

  it("--task to a dialogue task gives dialogue cases", () => {
    const r2 = imp("cmb-clin", "cmb-clin.json", { task: "GA10" });
    expect(new Set(r2.cases.map((c) => `${c.task}/${c.format}`))).toEqual(new Set(["GA10/dialogue"]));
    // Same cases as with DA01; the first question, with no history, is one user turn.
    expect(r2.cases.map((c) => c.id)).toEqual(r.cases.map((c) => c.id));
    expect(byId(r2, "cmb-clin:1.q1").input.messages).toEqual([{ role: "user", content: `${src[0]!.description}\n\n${src[0]!.QA_pairs![0]!.question}` }]);
    expectNoneLost(r2, units);
    expectAllValid(r2);
  });
});

describe("mcq importer", () => {
  it("options as an object; answer as answer_idx, as option text, as letters; lowercase keys", () => {
    const r = imp("mcq", "mcq-medqa.jsonl");
    expectNoneLost(r, jsonlRecords("mcq-medqa.jsonl"));
    expect(r.cases.map((c) => [c.id, c.reference.answer])).toEqual([
      ["mcq-medqa:synq-1", "C"],
      ["mcq-medqa:synq-2", "B"],
      ["mcq-medqa:synq-3", ["A", "C"]],
      ["mcq-medqa:synq-6", "B"],
    ]);
    expect(skipAt(r)).toEqual([[4, "reference.answer"], [5, "question"]]);
    expect(r.skipped[0]!.reason).toMatch(/F not among the options/);
    expect(byId(r, "mcq-medqa:synq-6").input.options).toEqual({ A: "Liver", B: "Pancreas", C: "Spleen" });
    expect(new Set(r.cases.map((c) => c.task))).toEqual(new Set(["EK02"]));
    expectAllValid(r);
  });

  it("options as opa…ope; answer as 1-based cop or as the field name opa; explanation as rationale", () => {
    const r = imp("mcq", "mcq-medmcqa.jsonl");
    expectNoneLost(r, jsonlRecords("mcq-medmcqa.jsonl"));
    const src1 = jsonlLine("mcq-medmcqa.jsonl", 1);
    expect(byId(r, "mcq-medmcqa:synm-1").reference).toEqual({ answer: "ABCD"[src1.cop - 1], rationale: src1.exp });
    expect(byId(r, "mcq-medmcqa:synm-2").reference.answer).toBe("A");
    const c4 = byId(r, "mcq-medmcqa:synm-4");
    expect(c4.reference.answer).toBe("C");
    expect(Object.keys(c4.input.options!)).toEqual(["A", "B", "C", "D"]); // the empty ope is not an option
    expect(skipAt(r)).toEqual([[3, "cop"]]);
    expect(r.skipped[0]!.reason).toMatch(/1-based/);
    expectAllValid(r);
  });

  it("CSV with options in one cell: real line breaks, a literal \\n, 'A.' and 'A、' forms; multi-letter answers; malformed rows skipped", () => {
    const r = imp("mcq", "mcq-cmexam.csv");
    expectNoneLost(r, csvRecords("mcq-cmexam.csv"));
    expect(byId(r, "mcq-cmexam:cmx-1").input.options).toEqual({ A: "原发性高血压", B: "继发性高血压", C: "白大衣高血压", D: "妊娠期高血压" });
    expect(byId(r, "mcq-cmexam:cmx-2").input.options).toEqual({ A: "硝酸甘油", B: "阿司匹林", C: "呋塞米", D: "地高辛" });
    expect(byId(r, "mcq-cmexam:cmx-2").reference.answer).toBe("B");
    const c3 = byId(r, "mcq-cmexam:cmx-3");
    expect(c3.reference.answer).toEqual(["A", "C"]);
    expect(c3.input.options!.C).toBe("抗利尿激素分泌异常综合征");
    expect(c3.provenance.language).toBe("zh");
    expect(skipAt(r)).toEqual([[11, ""], [13, "Options"]]);
    expect(r.skipped[0]!.reason).toMatch(/has 4 field\(s\); the header has 5/);
    expectAllValid(r);
  });

  it("a BOM CSV with Chinese headers and A–E columns; answer as a number and as 'A、B、D'", () => {
    expect(readFileSync(fx("mcq-columns-bom.csv"))[0]).toBe(0xef);
    const r = imp("mcq", "mcq-columns-bom.csv");
    expectNoneLost(r, csvRecords("mcq-columns-bom.csv"));
    expect(r.cases.map((c) => [c.id, c.reference.answer])).toEqual([
      ["mcq-columns-bom:q1", "C"],
      ["mcq-columns-bom:q2", "A"],
      ["mcq-columns-bom:q3", ["A", "B", "D"]],
    ]);
    expect(byId(r, "mcq-columns-bom:q1").provenance.originId).toBe("q1");
    expect(skipAt(r)).toEqual([[5, "reference.answer"]]);
    expectAllValid(r);
  });

  it("--map names the columns; --dataset names the dataset and the id prefix; rows without ids get line-based ids", () => {
    const r = imp("mcq", "mcq-mapped.csv", {
      map: ["question=Q", "options=Choices", "answer=Key", "explanation=Why", "specialty=Dept"],
      dataset: "Centre exam 2024",
    });
    expectNoneLost(r, csvRecords("mcq-mapped.csv"));
    // The first row's options cell spans lines 2–5, so the second row starts on line 6.
    expect(readFileSync(fx("mcq-mapped.csv"), "utf8").split("\n")[5]).toMatch(/^（合成题）肺楔形切除/);
    expect(r.cases.map((c) => c.id)).toEqual(["centre-exam-2024:line2", "centre-exam-2024:line6"]);
    expect(r.cases[0]!.provenance).toMatchObject({ specialty: "胸外科", dataset: "Centre exam 2024", origin: "mcq-mapped.csv" });
    expect(byId(r, "centre-exam-2024:line2").reference.rationale).toMatch(/肺复张/);
    expect(byId(r, "centre-exam-2024:line6").reference.rationale).toBeUndefined(); // empty explanation cell
    // Without the map the odd headers are not found, and each row says so.
    const r2 = imp("mcq", "mcq-mapped.csv");
    expect(r2.cases).toHaveLength(0);
    expect(r2.skipped.map((s) => s.field)).toEqual(["question", "question"]);
  });

  it("reads option text in its common shapes", () => {
    expect(parseOptionText("A 原发病\\nB 继发病", "o")).toEqual({ A: "原发病", B: "继发病" });
    expect(parseOptionText("(A) aspirin\n(B) heparin\n  given IV", "o")).toEqual({ A: "aspirin", B: "heparin given IV" });
    expect(parseOptionText("a. one\nb. two", "o")).toEqual({ A: "one", B: "two" });
    expect(parseOptionText("A：甲\r\nB：乙", "o")).toEqual({ A: "甲", B: "乙" });
    expect(() => parseOptionText("A 甲\nA 乙", "o")).toThrow(/appears twice/);
  });

  it("bad arguments are exit-2 errors, not skips", () => {
    expect(() => imp("mcq", "mcq-mapped.csv", { map: ["question=题目"] })).toThrow(UserError);
    expect(() => imp("mcq", "mcq-mapped.csv", { map: ["colour=Q"] })).toThrow(/knows the fields/);
    expect(() => imp("mcq", "mcq-medqa.jsonl", { task: "XX01" })).toThrow(/unknown task id/);
    expect(() => imp("mcq", "no-such-file.csv")).toThrow(/cannot read/);
  });
});

describe("pubmedqa importer", () => {
  const src = JSON.parse(readFileSync(fx("pubmedqa.json"), "utf8")) as Record<string, { QUESTION: string; CONTEXTS: string[]; LABELS?: string[]; LONG_ANSWER: string }>;
  const r = imp("pubmedqa", "pubmedqa.json");

  it("makes EK08 yes/no/maybe choice cases keyed by PMID; bad entries skipped by PMID", () => {
    expectNoneLost(r, Object.keys(src).length);
    expect(skipAt(r)).toEqual([["PMID 90000003", "final_decision"], ["PMID 90000004", "QUESTION"]]);
    const e = src["90000001"]!;
    const c = byId(r, "pubmedqa:90000001");
    expect(c).toMatchObject({ task: "EK08", format: "choice", reference: { answer: "A", rationale: e.LONG_ANSWER } });
    expect(c.input.options).toEqual({ A: "yes", B: "no", C: "maybe" });
    expect(c.input.question).toBe(e.QUESTION);
    expect(c.input.context).toBe(e.CONTEXTS.map((t, i) => `${e.LABELS![i]}: ${t}`).join("\n\n"));
    expect(c.provenance).toMatchObject({ dataset: "PubMedQA", originId: "90000001", language: "en" });
    expectAllValid(r);
  });

  it("Chinese entries get Chinese option labels", () => {
    const c = byId(r, "pubmedqa:90000002");
    expect(c.input.options).toEqual({ A: "是", B: "否", C: "不确定" });
    expect(c.reference.answer).toBe("C");
    expect(c.provenance.language).toBe("zh");
  });

  it("a file that is not the PMID-keyed object is bad input", () => {
    expect(() => imp("pubmedqa", "healthbench.jsonl")).toThrow(UserError);
    expect(() => imp("pubmedqa", "cmb-clin.json")).toThrow(/keyed by PMID/);
  });
});

describe("csv importer", () => {
  it("open cases from a BOM CSV with Chinese headers: key points, signed rubric, specialty; bad rows skipped", () => {
    const r = imp("csv", "csv-open-bom.csv", { format: "open", task: "DA05" });
    expectNoneLost(r, csvRecords("csv-open-bom.csv"));
    expect(r.cases.map((c) => c.id)).toEqual(["csv-open-bom:T-001", "csv-open-bom:T-002"]);
    const c1 = byId(r, "csv-open-bom:T-001");
    expect(c1.reference.rubric!.map((x) => x.points)).toEqual([5, 4, -8]);
    expect((c1.reference as { keyPoints: string[] }).keyPoints).toEqual(["分期为IA3期", "首选肺叶切除", "系统性淋巴结清扫或采样"]);
    expect(c1.provenance).toMatchObject({ specialty: "胸外科", difficulty: "common", language: "zh", originId: "T-001" });
    expect(c1.input.context).toMatch(/^（合成病例）男，65岁/);
    expect(r.notes.map((n) => [n.line, n.field])).toEqual([[5, "得分点"]]);
    expect(skipAt(r)).toEqual([[6, "难度"], [7, "参考答案"], [8, "评分细则"]]);
    expect(r.skipped.map((s) => s.sourceId)).toEqual(["T-003", "T-004", "T-005"]);
    expectAllValid(r);
  });

  it("numeric cases: absolute and percentage tolerances; a non-number answer is skipped", () => {
    const r = imp("csv", "csv-numeric.csv", { format: "numeric", task: "GA12" });
    expectNoneLost(r, csvRecords("csv-numeric.csv"));
    expect(r.cases.map((c) => c.reference)).toEqual([
      { answer: 22.9, unit: "kg/m²", tolerance: { abs: 0.1 } },
      { answer: 47.2, unit: "mL/min", tolerance: { rel: 0.05 } },
    ]);
    expect(skipAt(r)).toEqual([[4, "answer"]]);
    expectAllValid(r);
  });

  it("numeric without a tolerance column: the default is used and noted once", () => {
    const dir = tempDir();
    const file = path.join(dir, "calc.csv");
    writeFileSync(file, "题目,答案,单位\n（合成题）体重80 kg，身高2.0 m，BMI？,20,kg/m²\n");
    const r = runImport({ from: "csv", file, tax, format: "numeric", task: "GA12" });
    expect(r.cases[0]!.reference).toMatchObject({ answer: 20, unit: "kg/m²", tolerance: { rel: 0.01 } });
    expect(r.notes.map((n) => n.field)).toEqual(["tolerance"]);
  });

  it("choice cases from option columns; a task column per row; csv needs --format and a task", () => {
    const r = imp("csv", "mcq-columns-bom.csv", { format: "choice", task: "EK02" });
    expect(r.cases.map((c) => c.reference.answer)).toEqual(["C", "A", ["A", "B", "D"]]);
    const dir = tempDir();
    const file = path.join(dir, "tasks.csv");
    writeFileSync(file, "任务,问题,参考答案\nDA01,（合成题）发热咳嗽3天，右下肺湿啰音，诊断？,社区获得性肺炎\nZZ01,（合成题）问题,答案\n");
    const r2 = runImport({ from: "csv", file, tax, format: "open", map: ["task=任务"] });
    expect(r2.cases.map((c) => c.task)).toEqual(["DA01"]);
    expect(skipAt(r2)).toEqual([[3, "任务"]]);
    expect(() => imp("csv", "csv-numeric.csv", { task: "GA12" })).toThrow(/--format/);
    expect(() => imp("csv", "csv-numeric.csv", { format: "numeric" })).toThrow(/--task/);
  });

  it("a file that is not UTF-8 is bad input", () => {
    const dir = tempDir();
    const file = path.join(dir, "gbk.csv");
    writeFileSync(file, Buffer.from([0x61, 0x2c, 0x62, 0x0a, 0xc4, 0xe3, 0x2c, 0x31, 0x0a]));
    expect(() => runImport({ from: "csv", file, tax, format: "open", task: "DA01" })).toThrow(/not valid UTF-8/);
  });
});

describe("shared helpers", () => {
  it("detects the language by the share of CJK characters", () => {
    expect(detectLanguage("男，68岁，CT示右上肺结节 2.3 cm，SUV 5.6")).toBe("zh");
    expect(detectLanguage("A 68-year-old man with a 2.3 cm nodule (结节) in the right upper lobe")).toBe("en");
  });

  it("makes valid, distinct case ids from any source id", () => {
    const ids = ["病例1", "病例2", "a/b", "a_b"].map((s) => caseId("csv", s));
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect(caseId("mcq", "x".repeat(300)).length).toBeLessThanOrEqual(128);
    expect(caseId("mcq", "synq-1")).toBe("mcq:synq-1");
  });
});

describe("datasets import CLI", () => {
  it("writes JSONL to stdout, reports skips on stderr and exits 1 when something was skipped", () => {
    const r = cli(["datasets", "import", "--from", "healthbench", fx("healthbench.jsonl")]);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { id: string });
    expect(lines.map((l) => l.id)).toEqual(["healthbench:synthetic-hb-0001", "healthbench:synthetic-hb-0002", "healthbench:synthetic-hb-0003", "healthbench:synthetic-hb-0004"]);
    expect(r.stderr).toMatch(/imported 4 of 10 record\(s\).*skipped 6/);
    expect(r.stderr).toMatch(/healthbench\.jsonl:7 \(id synthetic-hb-0007\): example_tags: unknown theme/);
  });

  it("--out writes a file `datasets validate` accepts; exit 0 when nothing was skipped", () => {
    const dir = tempDir();
    const out = path.join(dir, "exam.jsonl");
    const r = cli(["datasets", "import", "--from", "mcq", fx("mcq-mapped.csv"), "--map", "question=Q", "--map", "options=Choices", "--map", "answer=Key", "--out", out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/imported 2 of 2 record\(s\).*skipped 0/);
    expect(readFileSync(out, "utf8").trim().split("\n")).toHaveLength(2);
    const v = cli(["datasets", "validate", out, "--json"]);
    expect(v.code).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ valid: true, cases: 2 });
  });

  it("--json reports counts and every skip, with the cases when there is no --out", () => {
    const r = cli(["datasets", "import", "--from", "pubmedqa", fx("pubmedqa.json"), "--json"]);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout) as { records: number; imported: number; skipped: number; skips: { where: string; field: string }[]; cases: unknown[] };
    expect(j.imported + j.skipped).toBe(j.records);
    expect(j.cases).toHaveLength(j.imported);
    expect(j.skips.map((s) => s.field)).toEqual(["final_decision", "QUESTION"]);
    expect(j.skips[0]!.where).toMatch(/pubmedqa\.json PMID 90000003$/);
  });

  it("bad arguments and unreadable files exit 2 with a message", () => {
    const missing = cli(["datasets", "import", "--from", "mcq", fx("nope.csv")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.csv: cannot read/);
    const badFrom = cli(["datasets", "import", "--from", "medqa", fx("mcq-medqa.jsonl")]);
    expect(badFrom.code).toBe(2);
    expect(badFrom.stderr).toMatch(/Allowed choices are healthbench, cmb-clin, mcq, pubmedqa, csv/);
  });
});
