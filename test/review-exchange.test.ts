import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync, writeFileSync } from "node:fs";
import Database from "better-sqlite3";
import { makeReviewRun, weighted, type ReviewRun } from "./reviewFixture.js";
import { cli } from "./helpers.js";
import { readCsvLines } from "../src/util/csv.js";

let run: ReviewRun;
beforeAll(async () => {
  run = await makeReviewRun();
}, 60_000);
afterAll(async () => {
  await run.close();
});

const actions = (dbPath: string) => {
  const db = new Database(dbPath, { readonly: true });
  const rows = db.prepare("SELECT case_id, reviewer, action, result, reasoning, approach, safety, rubric_json, score, comment, source FROM review_actions ORDER BY id").all() as Record<string, unknown>[];
  db.close();
  return rows;
};

describe("offline review: export → edit → import", () => {
  it("round-trips a CSV with Chinese headers, escapes formula cells, rejects a file with bad rows unless --partial", () => {
    const dbPath = run.copy();
    const out = `${dbPath}.csv`;
    const exp = cli(["review", "export", run.runId, "--db", dbPath, "--zh-headers", "--out", out]);
    expect(exp.code).toBe(0);
    const bytes = readFileSync(out);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]); // UTF-8 BOM for Excel
    const text = bytes.toString("utf8");
    const { records } = readCsvLines(text);
    const header = records[0]!.cells;
    expect(header.slice(0, 4)).toEqual(["运行", "评审集", "病例", "重复"]);
    const col = (name: string) => header.indexOf(name);
    // The open case's answer starts with "=": written with a leading quote so Excel shows it as text.
    const openRow = records.find((r) => r.cells[col("病例")] === "T-OPEN-1")!;
    expect(openRow.cells[col("候选答案")]).toBe("'=SUM(1,2) 先观察，回家休息。");
    // Model text is exported inert: no escape sequences or NUL from the hostile answer.
    const choiceRow = records.find((r) => r.cells[col("病例")] === "T-CHOICE-1")!;
    expect(choiceRow.cells[col("候选答案")]).toBe("答案：B HOSTILE");

    // The expert fills in three rows: accept, an override (with a comment that starts with "="), a skip.
    const set = (r: { cells: string[] }, k: string, v: string) => (r.cells[col(k)] = v);
    set(choiceRow, "决定", "accept");
    set(openRow, "决定", "override");
    for (const k of ["结果分", "推理分", "思路分"]) set(openRow, k, "9");
    set(openRow, "安全", "minor");
    set(openRow, "细则判定", "r1=y; r2=y; r3=n");
    set(openRow, "备注", "'=HYPERLINK(\"http://x\")");
    const numRow = records.find((r) => r.cells[col("病例")] === "T-NUM-1")!;
    set(numRow, "决定", "skip");
    const q = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    const write = (rs: { cells: string[] }[]) => writeFileSync(out, "\uFEFF" + rs.map((r) => r.cells.map(q).join(",")).join("\r\n") + "\r\n");

    // First with bad rows added: nothing applied, every problem named by file, line and column.
    const bad1 = { cells: [...numRow.cells] };
    set(bad1, "病例", "NO-SUCH-CASE");
    set(bad1, "决定", "override");
    set(bad1, "结果分", "11");
    set(bad1, "推理分", "5");
    set(bad1, "思路分", "5");
    set(bad1, "安全", "fine");
    const bad2 = { cells: [...choiceRow.cells] };
    set(bad2, "病例", "T-EXT-1");
    set(bad2, "决定", "maybe");
    write([records[0]!, ...records.slice(1), bad1, bad2]);
    const lineOf = (n: number) => readCsvLines(readFileSync(out, "utf8")).records[n]!.line;
    const badLine = lineOf(records.length), bad2Line = lineOf(records.length + 1);
    const rejected = cli(["review", "import", run.runId, out, "--db", dbPath, "--reviewer", "张医生"]);
    expect(rejected.code).toBe(2);
    expect(rejected.stderr).toContain(`${out}:${badLine}: 病例 (case_id): expected a case of run ${run.runId}, got "NO-SUCH-CASE"`);
    expect(rejected.stderr).toContain(`${out}:${badLine}: 结果分 (result): expected a whole number from 0 to 10, got "11"`);
    expect(rejected.stderr).toContain(`${out}:${badLine}: 安全 (safety): expected ok, minor or critical, got "fine"`);
    expect(rejected.stderr).toContain(`${out}:${bad2Line}: 决定 (decision): expected accept, override or skip`);
    expect(rejected.stderr).toMatch(/nothing was applied/);
    expect(actions(dbPath)).toEqual([]);

    // --partial applies the three valid rows and exits 1 for the rejected ones.
    const partial = cli(["review", "import", run.runId, out, "--db", dbPath, "--reviewer", "张医生", "--partial"]);
    expect(partial.code).toBe(1);
    expect(partial.stdout).toMatch(/3 decision\(s\) recorded/);
    const rows = actions(dbPath);
    expect(rows.map((r) => [r.case_id, r.action])).toEqual([["T-CHOICE-1", "accept"], ["T-OPEN-1", "override"], ["T-NUM-1", "skip"]]);
    const ov = rows.find((r) => r.action === "override")!;
    expect(ov).toMatchObject({ reviewer: "张医生", result: 9, reasoning: 9, approach: 9, safety: "minor", comment: '=HYPERLINK("http://x")' });
    expect(JSON.parse(ov.rubric_json as string)).toEqual({ r1: true, r2: true, r3: false });
    expect(ov.score as number).toBeCloseTo(weighted("open", { rubric: 1, result: 0.9, reasoning: 0.9, approach: 0.9 }), 10);

    // Importing the corrected file again changes nothing (identical decisions are not duplicated).
    write(records);
    const again = cli(["review", "import", run.runId, out, "--db", dbPath, "--reviewer", "张医生"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/0 decision\(s\) recorded .* 3 unchanged/);
    expect(actions(dbPath)).toHaveLength(3);
  });

  it("round-trips JSONL and refuses a file whose header or rows do not fit", () => {
    const dbPath = run.copy();
    const exp = cli(["review", "export", run.runId, "--db", dbPath, "--format", "jsonl"]);
    expect(exp.code).toBe(0);
    const rows = exp.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows[0]).toMatchObject({ run_id: run.runId, case_id: "T-CHOICE-1", priority: "critical safety" });
    const file = `${dbPath}.jsonl`;
    rows[0]!.decision = "override";
    Object.assign(rows[0]!, { result: 5, reasoning: 5, approach: 5, safety: "critical", rubric: "r9=y" });
    writeFileSync(file, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
    const r = cli(["review", "import", run.runId, file, "--db", dbPath, "--reviewer", "B"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:1: rubric: r9 is not a rubric item of T-CHOICE-1`);
    rows[0]!.rubric = "";
    writeFileSync(file, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
    expect(cli(["review", "import", run.runId, file, "--db", dbPath, "--reviewer", "B"]).code).toBe(0);
    expect(actions(dbPath)).toEqual([expect.objectContaining({ case_id: "T-CHOICE-1", action: "override", result: 5, safety: "critical", reviewer: "B", source: expect.stringMatching(/^import:/) })]);

    const csv = `${dbPath}.csv`;
    writeFileSync(csv, "\uFEFFcase_id,decision\r\nT-CHOICE-1,accept\r\n");
    const h = cli(["review", "import", run.runId, csv, "--db", dbPath, "--reviewer", "B"]);
    expect(h.code).toBe(2);
    expect(h.stderr).toMatch(new RegExp(`${csv.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:1: header: missing column\\(s\\) run_id, set_id, repeat`));
  });
});
