import { describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { loadDatasets } from "../src/dataset/load.js";
import { loadTaxonomy } from "../src/taxonomy/load.js";
import { datasetStats } from "../src/dataset/stats.js";
import { tempDir, writeJsonl, cli, FIXTURE_CASES, validOpenCase } from "./helpers.js";

const tax = loadTaxonomy();
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

async function issuesFor(lines: (unknown | string)[]) {
  const dir = tempDir();
  const file = writeJsonl(dir, "cases.jsonl", lines);
  const r = await loadDatasets([file], tax);
  return { ...r, file };
}

describe("dataset validation", () => {
  it("accepts the fixture file: every format, no errors", async () => {
    const r = await loadDatasets([FIXTURE_CASES], tax);
    expect(r.issues.filter((i) => i.severity === "error")).toEqual([]);
    expect(r.cases.map((c) => c.case.format).sort()).toEqual(["choice", "extraction", "group", "numeric", "open"]);
    expect(r.files[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("reports broken JSON with its line number", async () => {
    const r = await issuesFor([validOpenCase, '{"id": "X-2", "task": ']);
    expect(r.cases).toHaveLength(1);
    expect(r.issues).toEqual([expect.objectContaining({ file: r.file, line: 2, field: "", severity: "error", message: expect.stringMatching(/not valid JSON/) })]);
  });

  it("reports an unknown task id on the task field", async () => {
    const c = { ...clone(validOpenCase), task: "DA13" };
    const r = await issuesFor([c]);
    expect(r.issues).toEqual([expect.objectContaining({ line: 1, field: "task", message: expect.stringMatching(/unknown task id "DA13"/) })]);
  });

  it("reports a malformed task id with what is expected", async () => {
    const r = await issuesFor([{ ...clone(validOpenCase), task: "diagnosis" }]);
    expect(r.issues[0]).toMatchObject({ line: 1, field: "task", message: expect.stringMatching(/task id like DA01/) });
  });

  it("reports an unknown format and lists the valid ones", async () => {
    const r = await issuesFor([{ ...clone(validOpenCase), format: "essay" }]);
    expect(r.issues[0]).toMatchObject({ field: "format", message: expect.stringMatching(/expected one of choice, open, extraction, numeric, dialogue, group, got "essay"/) });
  });

  it("reports a missing required field by its path", async () => {
    const c = clone(validOpenCase) as Record<string, any>;
    delete c.reference.keyPoints;
    const r = await issuesFor([validOpenCase, { ...c, id: "X-3" }]);
    expect(r.issues).toEqual([expect.objectContaining({ line: 2, field: "reference.keyPoints" })]);
  });

  it("reports a wrong type and an unexpected field", async () => {
    const c = clone(validOpenCase) as Record<string, any>;
    c.provenance.synthetic = "yes";
    c.extra = 1;
    const r = await issuesFor([c]);
    const fields = r.issues.map((i) => i.field);
    expect(fields).toContain("provenance.synthetic");
    expect(r.issues.find((i) => i.field === "provenance.synthetic")!.message).toMatch(/expected boolean/);
    expect(r.issues.find((i) => i.field === "extra")?.message).toMatch(/unknown field/);
  });

  it("rejects a zero-point rubric item", async () => {
    const c = clone(validOpenCase) as Record<string, any>;
    c.reference.rubric[0].points = 0;
    const r = await issuesFor([c]);
    expect(r.issues[0]).toMatchObject({ field: "reference.rubric.0.points", message: expect.stringMatching(/non-zero integer/) });
  });

  it("rejects a choice answer that is not among the options", async () => {
    const c = {
      id: "X-C", task: "EK01", format: "choice",
      input: { question: "q?", options: { A: "a", B: "b" } },
      reference: { answer: "E" },
      provenance: validOpenCase.provenance,
    };
    const r = await issuesFor([c]);
    expect(r.issues[0]).toMatchObject({ field: "reference.answer", message: expect.stringMatching(/E not among the options \(A, B\)/) });
  });

  it("rejects duplicate case ids, naming the first occurrence", async () => {
    const r = await issuesFor([validOpenCase, validOpenCase]);
    expect(r.cases).toHaveLength(1);
    expect(r.issues[0]).toMatchObject({ line: 2, field: "id", message: expect.stringMatching(/duplicate case id "X-OPEN-1" \(first at .*:1\)/) });
  });

  it("rejects a demographic group whose variants differ by more than the attribute", async () => {
    const q = (sex: string, extra = "") => ({ question: `45岁${sex}性，空腹血糖7.4 mmol/L${extra}。判断？`, options: { A: "正常", B: "糖尿病" } });
    const c = {
      id: "X-G", task: "CE06", format: "group", variantFormat: "choice", attribute: "sex",
      variants: [{ id: "m", value: "男", input: q("男") }, { id: "f", value: "女", input: q("女", "，有家族史") }],
      reference: { answer: "B" }, provenance: validOpenCase.provenance,
    };
    const r = await issuesFor([c]);
    expect(r.issues[0]).toMatchObject({ field: "variants.1.input", message: expect.stringMatching(/differs from the first variant by more than the sex value/) });
    c.variants[1]!.input = q("女");
    expect((await issuesFor([c])).issues).toEqual([]);
  });

  it("warns when a case's format is not its task's format", async () => {
    const r = await issuesFor([{ ...clone(validOpenCase), task: "EK01" }]);
    expect(r.issues).toEqual([expect.objectContaining({ severity: "warning", field: "format", message: expect.stringMatching(/EK01.*takes choice cases; this case is open/) })]);
  });

  it("reports an empty file and a missing path", async () => {
    const dir = tempDir();
    const empty = path.join(dir, "empty.jsonl");
    writeFileSync(empty, "");
    const r = await loadDatasets([empty], tax);
    expect(r.issues[0]).toMatchObject({ line: 0, message: expect.stringMatching(/empty file/) });
    await expect(loadDatasets([path.join(dir, "nope.jsonl")], tax)).rejects.toThrow(/no such file/);
  });

  it("tolerates a BOM and CRLF line ends", async () => {
    const dir = tempDir();
    const file = path.join(dir, "bom.jsonl");
    writeFileSync(file, "\uFEFF" + JSON.stringify(validOpenCase) + "\r\n");
    const r = await loadDatasets([file], tax);
    expect(r.issues).toEqual([]);
    expect(r.cases).toHaveLength(1);
  });

  it("stats count by dimension, task and format and list empty tasks", async () => {
    const r = await loadDatasets([FIXTURE_CASES], tax);
    const s = datasetStats(r.cases, tax);
    expect(s.cases).toBe(5);
    expect(s.byDimension).toMatchObject({ CE: 1, EK: 1, GA: 2, WF: 1, QC: 0, DA: 0 });
    expect(s.byFormat).toEqual({ choice: 1, open: 1, numeric: 1, extraction: 1, group: 1 });
    expect(s.tasksWithoutCases).toHaveLength(72 - 5);
    expect(s.tasksWithoutCases).not.toContain("GA12");
  });

  it("`medeval datasets validate` exits 1 on errors and prints file:line: field", () => {
    const dir = tempDir();
    const file = writeJsonl(dir, "bad.jsonl", [validOpenCase, { ...clone(validOpenCase), id: "X-9", task: "ZZ01" }]);
    const r = cli(["datasets", "validate", file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${file}:2: error: task:`);
    const ok = cli(["datasets", "validate", FIXTURE_CASES, "--json"]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ valid: true, cases: 5 });
  });
});
