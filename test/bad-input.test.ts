// Every malformed input in test/fixtures/bad/ gives an error naming file, line, field and what was expected,
// exits 2, and writes nothing to the run database.
import { describe, expect, it } from "vitest";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import pLimit from "p-limit";
import { projectPath } from "../src/util/paths.js";
import { tempDir, cliAsync, validOpenCase } from "./helpers.js";

const BAD = projectPath("test", "fixtures", "bad");

/** [file, line, field, what the message must say] */
const DATASETS: [string, number, string, RegExp][] = [
  ["01-truncated-json.jsonl", 2, "", /not valid JSON/],
  ["02-trailing-comma.jsonl", 1, "", /not valid JSON/],
  ["03-wrong-type-synthetic.jsonl", 1, "provenance.synthetic", /expected boolean, received string/],
  ["04-unknown-task.jsonl", 1, "task", /unknown task id "DA13"/],
  ["05-malformed-task.jsonl", 1, "task", /task id like DA01/],
  ["06-duplicate-id.jsonl", 2, "id", /duplicate case id "BAD-1" \(first at .*:1\)/],
  ["07-missing-reference.jsonl", 1, "reference", /expected object, received undefined/],
  ["08-missing-keypoints.jsonl", 1, "reference.keyPoints", /expected array/],
  ["09-choice-answer-not-option.jsonl", 1, "reference.answer", /E not among the options \(A, B, C\)/],
  ["10-choice-one-option.jsonl", 1, "input.options", /at least 2 options/],
  ["11-unknown-format.jsonl", 1, "format", /expected one of choice, open, .*got "essay"/],
  ["12-missing-format.jsonl", 1, "format", /expected one of choice.*got null/],
  ["13-unknown-field.jsonl", 1, "difficulty", /unknown field/],
  ["14-bad-encoding-gbk.jsonl", 1, "", /not valid UTF-8/],
  ["15-crlf-error-line-2.jsonl", 2, "input.question", /expected string, received number/],
  ["16-bom-error-line-1.jsonl", 1, "task", /task id like DA01/],
  ["17-nul-byte.jsonl", 1, "", /not valid JSON/],
  ["18-empty.jsonl", 0, "", /empty file/],
  ["19-only-blank-lines.jsonl", 0, "", /no cases|empty/],
  ["20-numeric-no-tolerance.jsonl", 1, "reference.tolerance", /expected object/],
  ["21-numeric-answer-string.jsonl", 1, "reference.answer", /expected number, received string/],
  ["22-extraction-empty-gold.jsonl", 1, "reference.answer", /at least one field/],
  ["23-dialogue-last-assistant.jsonl", 1, "input.messages", /last message must be the user's/],
  ["24-dialogue-bad-role.jsonl", 1, "input.messages.0.role", /expected one of "system"\|"user"\|"assistant"/],
  ["25-group-one-variant.jsonl", 1, "variants", /at least 2 variants/],
  ["26-group-differs-beyond-attribute.jsonl", 1, "variants.1.input", /differs from the first variant by more than the sex value/],
  ["27-group-duplicate-variant.jsonl", 1, "variants.1.id", /duplicate variant id "m"/],
  ["28-rubric-zero-points.jsonl", 1, "reference.rubric.0.points", /non-zero integer between -20 and 20/],
  ["29-rubric-too-many-points.jsonl", 1, "reference.rubric.0.points", /non-zero integer between -20 and 20/],
  ["30-rubric-duplicate-ids.jsonl", 1, "reference.rubric.1.id", /duplicate rubric item id "r1"/],
  ["31-guideline-without-name.jsonl", 1, "provenance.guideline", /give \{name, year\}/],
  ["32-guideline-year-1800.jsonl", 1, "provenance.guideline.year", />=1950/],
  ["33-difficulty-easy.jsonl", 1, "provenance.difficulty", /"common"\|"rare"\|"difficult"/],
  ["34-language-fr.jsonl", 1, "provenance.language", /"zh"\|"en"/],
  ["35-id-with-spaces.jsonl", 1, "id", /letters, digits/],
  ["36-lowercase-option-key.jsonl", 1, "input.options.a", /single letters A–J/],
  ["37-array-line.jsonl", 1, "", /expected a JSON object/],
  ["38-null-line.jsonl", 1, "", /expected a JSON object/],
  ["39-empty-question.jsonl", 1, "input.question", /non-empty string/],
  ["40-multi-answer-unknown-key.jsonl", 1, "reference.answer", /F not among the options/],
  ["41-synthetic-source-not-synthetic.jsonl", 1, "provenance.synthetic", /synthetic must be true/],
  ["42-missing-provenance.jsonl", 1, "provenance", /expected object/],
];

/** [file, field, what the message must say] */
const CONFIGS: [string, string, RegExp][] = [
  ["c01-not-json.json", "", /not valid JSON/],
  ["c02-unknown-key.json", "candidat", /unknown field/],
  ["c03-unknown-kind.json", "candidate.kind", /Expected 'openai' \| 'mock'/],
  ["c04-openai-without-model.json", "candidate.model", /expected string, received undefined/],
  ["c05-bad-env-name.json", "candidate.apiKeyEnv", /environment variable name/],
  ["c06-temperature-5.json", "candidate.temperature", /<=2/],
  ["c07-concurrency-0.json", "concurrency", />=1/],
  ["c08-base-url-not-url.json", "candidate.baseURL", /Invalid URL/],
  ["c09-negative-price.json", "prices.m.input", />=0/],
  ["c10-array.json", "(record)", /expected object, received array/],
];

/** [file, line, field, what the message must say] for submitted answer files (replay). */
const REPLAY: [string, number, string, RegExp][] = [
  ["r01-broken-json.jsonl", 2, "", /not valid JSON/],
  ["r02-missing-answer.jsonl", 1, "answer", /expected the answer text/],
  ["r03-duplicate-row.jsonl", 2, "case_id", /duplicate answer for T-CHOICE-1 \(first given on line 1\)/],
  ["r04-unknown-case.jsonl", 1, "case_id", /unknown case id "NO-SUCH-CASE"/],
  ["r05-unknown-field.jsonl", 1, "", /unknown field\(s\) score/],
  ["r06-missing-column.csv", 1, "case_id", /missing column/],
];

/** [file, field, what the message must say] for gate policies. */
const GATES: [string, string, RegExp][] = [
  ["g01-not-json.json", "", /not valid JSON/],
  ["g02-unknown-field.json", "minOveral", /unknown field/],
  ["g03-out-of-range.json", "minOverall", /score from 0 to 1/],
  ["g04-unknown-task.json", "minTask.DA13", /unknown task id/],
  ["g05-unknown-dimension.json", "minDimension.XX", /unknown dimension/],
];

/** Review import rows, made from a real export of a run: [name, change to the first row, field, message]. */
const REVIEWS: [string, (r: Record<string, unknown>) => Record<string, unknown> | string, string, RegExp][] = [
  ["axis-out-of-range", (r) => ({ ...r, decision: "override", result: 11, reasoning: 5, approach: 5, safety: "ok" }), "result", /whole number from 0 to 10/],
  ["unknown-decision", (r) => ({ ...r, decision: "maybe" }), "decision", /expected accept, override or skip/],
  ["unknown-safety", (r) => ({ ...r, decision: "override", result: 5, reasoning: 5, approach: 5, safety: "deadly" }), "safety", /expected ok, minor or critical/],
  ["unknown-case", (r) => ({ ...r, case_id: "NO-SUCH", decision: "accept" }), "case_id", /expected a case of run/],
  ["broken-json", () => '{"run_id": "x", ', "", /not valid JSON/],
];

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("bad input corpus", () => {
  it("has at least 50 malformed inputs, each one covered below", () => {
    expect(DATASETS.length + CONFIGS.length + 1 + REPLAY.length + GATES.length + REVIEWS.length).toBeGreaterThanOrEqual(50);
  });

  it("every one: names file, line and field, says what was expected, exits 2, writes nothing", { timeout: 300_000 }, async () => {
    const dir = tempDir();
    // The 10 MB single line is made here rather than kept in the repository.
    const huge = path.join(dir, "43-ten-megabyte-line.jsonl");
    writeFileSync(huge, JSON.stringify({ ...validOpenCase, input: { ...validOpenCase.input, context: "咳".repeat(10 * 1024 * 1024 / 3) } }) + "\n");
    const cases: { args: string[]; file: string; line: number; field: string; re: RegExp }[] = [
      ...DATASETS.map(([f, line, field, re]) => ({ args: ["--datasets", path.join(BAD, "datasets", f)], file: path.join(BAD, "datasets", f), line, field, re })),
      { args: ["--datasets", huge], file: huge, line: 1, field: "", re: /line is \d+ characters; a case may be at most/ },
      ...CONFIGS.map(([f, field, re]) => ({ args: ["--config", path.join(BAD, "config", f), "--datasets", projectPath("test", "fixtures", "cases")], file: path.join(BAD, "config", f), line: -1, field, re })),
    ];
    const limit = pLimit(4);
    const results = await Promise.all(cases.map((c, i) => limit(async () => {
      const db = path.join(dir, `db-${i}.sqlite`);
      const r = await cliAsync(["run", "--candidate", "mock", "--judge", "mock", "--db", db, ...c.args]);
      return { c, r, dbExists: existsSync(db) };
    })));
    for (const { c, r, dbExists } of results) {
      const name = path.basename(c.file);
      expect(r.code, `${name}: ${r.stderr}`).toBe(2);
      expect(dbExists, `${name}: a database was written`).toBe(false);
      expect(r.stderr, name).not.toMatch(/internal error|    at /);
      if (c.line >= 0) {
        const where = c.line > 0 ? `${c.file}:${c.line}` : c.file;
        expect(r.stderr, name).toMatch(new RegExp(`${escape(where)}: error: ${c.field ? escape(c.field) + ": " : ""}`));
      } else {
        expect(r.stderr, name).toContain(c.file);
        expect(r.stderr, name).toContain(c.field);
      }
      expect(r.stderr, name).toMatch(c.re);
    }
  });

  it("answer files, gate policies and review imports: each names file, line and field, exits 2, changes nothing", { timeout: 300_000 }, async () => {
    const dir = tempDir();
    const db = path.join(dir, "base.sqlite");
    const fixtures = projectPath("test", "fixtures", "cases");
    expect((await cliAsync(["run", "--candidate", "mock", "--judge", "mock", "--datasets", fixtures, "--db", db, "--out", dir, "-q"])).code).toBe(0);
    const runs = JSON.parse((await cliAsync(["runs", "--db", db, "--json"])).stdout) as { id: string }[];
    const exported = path.join(dir, "review.jsonl");
    expect((await cliAsync(["review", "export", "--db", db, "--format", "jsonl", "--out", exported])).code).toBe(0);
    const first = JSON.parse(readFileSync(exported, "utf8").split("\n")[0]!) as Record<string, unknown>;
    const actionsBefore = (await cliAsync(["review", "stats", "--db", db, "--json"])).stdout;

    const checks: { args: string[]; file: string; line: number; field: string; re: RegExp; noDb?: string }[] = [
      ...REPLAY.map(([f, line, field, re]) => {
        const file = path.join(BAD, "replay", f);
        const out = path.join(dir, `replay-${f}.sqlite`);
        return { args: ["run", "--candidate", `replay:${file}`, "--judge", "mock", "--datasets", fixtures, "--db", out], file, line, field, re, noDb: out };
      }),
      ...GATES.map(([f, field, re]) => ({ args: ["gate", "--db", db, "--policy", path.join(BAD, "gate", f)], file: path.join(BAD, "gate", f), line: -1, field, re })),
      ...REVIEWS.map(([name, change, field, re]) => {
        const file = path.join(dir, `review-${name}.jsonl`);
        const row = change(first);
        writeFileSync(file, (typeof row === "string" ? row : JSON.stringify(row)) + "\n");
        return { args: ["review", "import", runs[0]!.id, file, "--reviewer", "dr-test", "--db", db], file, line: 1, field, re };
      }),
    ];
    for (const c of checks) {
      const r = await cliAsync(c.args);
      const name = path.basename(c.file);
      expect(r.code, `${name}: ${r.stderr}`).toBe(2);
      expect(r.stderr, name).not.toMatch(/internal error|    at /);
      if (c.line >= 0) expect(r.stderr, name).toContain(`${c.file}:${c.line}: `);
      else expect(r.stderr, name).toContain(c.file);
      if (c.field) expect(r.stderr, name).toContain(`${c.field}: `);
      expect(r.stderr, name).toMatch(c.re);
      if (c.noDb) expect(existsSync(c.noDb), `${name}: a database was written`).toBe(false);
    }
    // No review import changed anything.
    expect((await cliAsync(["review", "stats", "--db", db, "--json"])).stdout).toBe(actionsBefore);
  });
});
