import { beforeAll, describe, expect, it } from "vitest";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parse as parseCsv } from "csv-parse/sync";
import { cli, tempDir } from "./helpers.js";
import {
  runPlan, PLAN_A, HOSTILE_ANSWER, HOSTILE_RATIONALE, FORMULA_ANSWER, CASE_IDS, CASE_TASK, expectedScore, expectedTaskMeans, expectedDims,
  caseTexts, scoringJson, dbIn,
} from "./reportFixture.js";
import { reportSchema, internalReportSchema, vendorReportSchema, REPORT_SCHEMA_VERSION } from "../src/report/json.js";
import { csvCell } from "../src/report/csv.js";
import { esc } from "../src/report/html.js";

let dir: string;
let db: string;
let runId: string;

beforeAll(async () => {
  dir = tempDir("medeval-report-");
  db = dbIn(dir);
  runId = await runPlan(PLAN_A, db, dir);
});

function report(format: string, audience = "internal", extra: string[] = []): string {
  const out = path.join(dir, `out-${format}-${audience}-${extra.length}.${format}`);
  const r = cli(["report", runId, "--db", db, "--format", format, "--audience", audience, "--out", out, ...extra]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return readFileSync(out, "utf8");
}

const NS = Object.keys(CASE_IDS).map(Number);
const fmt = (x: number) => (x * 100).toFixed(1);

describe("report formats rendered from a real run database", () => {
  it("JSON validates against the exported, versioned schema and carries the aggregates the fixture answers imply", () => {
    const json = JSON.parse(report("json")) as unknown;
    const r = internalReportSchema.parse(json);
    expect(reportSchema.parse(json).audience).toBe("internal");
    expect(r.schemaVersion).toBe(REPORT_SCHEMA_VERSION);
    expect(r.run.id).toBe(runId);
    const exp = expectedDims(PLAN_A);
    expect(r.overall.mean).toBeCloseTo(exp.overall, 10);
    for (const [d, v] of Object.entries(exp.dims)) expect(r.dimensions.find((x) => x.id === d)!.mean).toBeCloseTo(v, 10);
    for (const [t, v] of Object.entries(expectedTaskMeans(PLAN_A))) {
      const row = r.tasks.find((x) => x.id === t)!;
      expect(row.mean).toBeCloseTo(v, 10);
      expect(row.lo! <= row.mean! && row.mean! <= row.hi!).toBe(true);
      expect(row.threshold).toBe(scoringJson.passMark);
      expect(row.passed).toBe(v >= scoringJson.passMark && t !== "CE01");
    }
    expect(r.cases).toHaveLength(NS.length);
    for (const n of NS) expect(r.cases.find((c) => c.caseId === CASE_IDS[n])!.score).toBeCloseTo(expectedScore(PLAN_A, n), 10);
    // Safety-critical first; the hostile case carries the critical finding.
    expect(r.findings[0]).toMatchObject({ kind: "critical-safety", severity: "critical", caseId: "R-CE01-1", task: "CE01", reviewState: "unreviewed" });
    expect(r.findingCategories[0]).toMatchObject({ kind: "critical-safety", task: "CE01", count: 1 });
    expect(r.tasks.find((t) => t.id === "CE01")!.criticalFindings).toBe(1);
    // Drill-down: case, reference, reasoning, answer, judge rationale.
    const c1 = r.cases.find((c) => c.caseId === "R-CE01-1")!;
    expect(c1.inputs[0]!.question).toContain("QTEXT-1-ZQ");
    expect(c1.responses[0]!.answer).toBe(HOSTILE_ANSWER);
    expect(c1.responses[0]!.reasoning).toContain("RSN-1-ZQ");
    expect(c1.judgments[0]!.rationale).toBe(HOSTILE_RATIONALE);
    expect(c1.reference.rubric.map((x) => x.id)).toEqual(["r1", "r2"]);
    // Provenance.
    expect(r.provenance.taxonomyHash).toMatch(/^[0-9a-f]{64}$/);
    expect(r.provenance.datasets[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(r.provenance.judgePromptHashes.length).toBeGreaterThan(0);
    expect(r.provenance.judgePromptHashes.every((h) => /^[0-9a-f]{64}$/.test(h))).toBe(true);
    expect(r.provenance.tokens.judge.calls).toBe(7); // every case but the extraction one is judged
    expect(r.review).toMatchObject({ reviewedCases: 0, unreviewedCases: r.review.flaggedCases, signOff: null });
  });

  it("the schema rejects a vendor report that carries cases", () => {
    const v = JSON.parse(report("json", "vendor")) as Record<string, unknown>;
    expect(vendorReportSchema.safeParse(v).success).toBe(true);
    expect(vendorReportSchema.safeParse({ ...v, cases: [] }).success).toBe(false);
    expect(vendorReportSchema.safeParse({ ...v, findings: [] }).success).toBe(false);
  });

  it("Markdown: overall, dimension and task rows, critical finding first", () => {
    const md = report("md");
    const exp = expectedDims(PLAN_A);
    expect(md).toContain(`Overall score **${fmt(exp.overall)}**`);
    expect(md).toContain(`| DA | 诊疗决策准确性 | Decision accuracy | ${fmt(exp.dims.DA!)} |`);
    expect(md).toMatch(/\| CE01 ★ \| 患者隐私保护 \| Privacy protection \| [\d.]+ \| [^|]+ \| 2 \| 0 \| \d+ \| \d+ \| 60 \| \*\*fail\*\* \|/);
    expect(md.indexOf("critical-safety")).toBeLessThan(md.indexOf("## Tasks"));
    expect(md).toMatch(/> \*\*Safety-critical findings:\*\* critical-safety in CE01 ×1/);
    // Model text in a table cell cannot open a tag.
    expect(md).not.toContain("<script>");
  });

  it("CSV: BOM, one row per case with the scores, flags and review state; formula starts neutralised", () => {
    const text = report("csv");
    expect(text.charCodeAt(0)).toBe(0xfeff);
    const rows = parseCsv(text.slice(1), { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(NS.length);
    for (const n of NS) {
      const row = rows.find((r) => r.case_id === CASE_IDS[n])!;
      expect(Number(row.score)).toBeCloseTo(expectedScore(PLAN_A, n), 5);
      expect(row.task).toBe(CASE_TASK[n]);
      expect(row.review_state).toBe(row.flags ? "unreviewed" : "not-flagged");
    }
    expect(rows.find((r) => r.case_id === "R-CE01-1")!.flags!.split(";")).toContain("critical-safety");
    expect(rows.find((r) => r.case_id === "R-DA01-1")!.answer).toBe(`'${FORMULA_ANSWER}`);
    expect(text).not.toMatch(/(^|,)=HYPERLINK/m);
  });

  it.each([["=1+1"], ["+1"], ["-1"], ["@SUM(A1)"], ["\tx"], ["\rx"]])("csvCell neutralises a cell starting %j", (s) => {
    const cell = csvCell(s);
    expect(cell.replace(/^"/, "").startsWith("'")).toBe(true);
  });

  it("csvCell quotes separators and leaves numbers alone", () => {
    expect(csvCell('a,"b"\nc')).toBe('"a,""b""\nc"');
    expect(csvCell(-0.5)).toBe("-0.5");
    expect(csvCell(null)).toBe("");
  });

  it("JUnit: a suite per dimension, a case per task, failures below threshold or on a critical finding", () => {
    const xml = report("junit");
    const suites = [...xml.matchAll(/<testsuite name="(\w\w) /g)].map((m) => m[1]);
    expect(suites).toEqual(["CE", "EK", "GA", "DA"]);
    const means = expectedTaskMeans(PLAN_A);
    const cases = [...xml.matchAll(/<testcase classname="medeval\.(\w+)" name="(\w+)[^"]*">([\s\S]*?)<\/testcase>/g)];
    expect(cases.map((m) => m[2]).sort()).toEqual(Object.keys(means).sort());
    for (const m of cases) {
      const t = m[2]!;
      const shouldFail = means[t]! < scoringJson.passMark || t === "CE01";
      expect(m[3]!.includes("<failure"), t).toBe(shouldFail);
    }
    expect(xml).toMatch(/<failure message="[^"]*1 critical safety finding\(s\)" type="critical-safety">/);
    const total = Number(/<testsuites [^>]*failures="(\d+)"/.exec(xml)![1]);
    expect(total).toBe(Object.entries(means).filter(([t, v]) => v < scoringJson.passMark || t === "CE01").length);
  });

  it("JUnit uses the gate policy's task thresholds when given", () => {
    const policy = path.join(dir, "p.json");
    writeFileSync(policy, JSON.stringify({ minTask: { GA12: 0.9, "*": 0.1 } }));
    const xml = report("junit", "internal", ["--policy", policy]);
    const ga12 = /<testcase classname="medeval.GA" name="GA12[^"]*">([\s\S]*?)<\/testcase>/.exec(xml)![1]!;
    expect(expectedTaskMeans(PLAN_A).GA12!).toBeLessThan(0.9);
    expect(ga12).toContain(`below threshold 90.0`);
    // "*" lowers every other task's bar: only GA12 (threshold) and CE01 (critical finding) fail.
    expect(Number(/<testsuites [^>]*failures="(\d+)"/.exec(xml)![1])).toBe(2);
  });

  it("HTML: self-contained, radar chart with Chinese and English labels, scores with intervals, escaped model text", () => {
    const html = report("html");
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).not.toMatch(/<(script|link|iframe|object|embed)\b/i);
    expect(html).not.toMatch(/\b(src|href)="(https?:)?\/\//i);
    expect(html).toContain(`Content-Security-Policy" content="default-src 'none'`);
    const svg = /<svg id="radar"[\s\S]*?<\/svg>/.exec(html)![0];
    for (const [zh, en] of [["医学合规伦理", "Compliance & ethics"], ["医学循证与知识", "Evidence & knowledge"], ["通用辅助能力", "General assistance"],
      ["专科诊疗质控管理", "Specialty quality control"], ["诊疗流程适配性", "Clinical workflow fit"], ["诊疗决策准确性", "Decision accuracy"]]) {
      expect(svg).toContain(zh);
      expect(svg).toContain(esc(en));
    }
    expect(svg).toMatch(/<polygon class="score" points="[\d.,\s]+"/);
    expect(html).toContain(`id="overall">${fmt(expectedDims(PLAN_A).overall)}<`);
    // Critical findings come before the task table, and the drill-down shows the case.
    expect(html.indexOf(`id="critical-findings"`)).toBeLessThan(html.indexOf(`id="tasks"`));
    expect(html).toContain("QTEXT-1-ZQ");
    // Hostile text: present only escaped; no tag, no event-handler attribute, no broken-out attribute.
    expect(html).not.toContain(HOSTILE_ANSWER);
    expect(html).toContain(esc(HOSTILE_ANSWER));
    expect(html).toContain(esc(HOSTILE_RATIONALE));
    expect(html).not.toMatch(/<img\b/i);
    expect(html).not.toMatch(/<svg onload/i);
    expect(html).not.toMatch(/<[^>]*\s(onerror|onmouseover|onload)\s*=/i);
    expect(html.match(/<details\b/g)!.length).toBe(html.match(/<\/details>/g)!.length);
  });

  it("esc() leaves no character that could open a tag or close an attribute", () => {
    expect(esc(`<a href="x" title='y'>&\``)).toBe("&#60;a href=&#34;x&#34; title=&#39;y&#39;&#62;&#38;&#96;");
  });

  it("an unknown format or audience is a usage error (exit 2)", () => {
    expect(cli(["report", runId, "--db", db, "--format", "pdf"])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--format: unknown format "pdf"/) });
    expect(cli(["report", runId, "--db", db, "--format", "md", "--audience", "press"])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--audience/) });
  });

  it("the terminal format still works", () => {
    const r = cli(["report", runId, "--db", db]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Run ${runId}`);
  });
});

describe("vendor audience", () => {
  // Strings of the fixture cases long enough to be recognisable (every one also carries a "-ZQ" canary).
  const texts = caseTexts().filter((s) => s.length >= 4);

  it("the internal reports do contain the case text (so the leak test below can fail)", () => {
    const internal = report("json");
    expect(texts.filter((t) => internal.includes(JSON.stringify(t).slice(1, -1))).length).toBeGreaterThan(10);
  });

  it.each(["md", "html", "json", "csv", "junit", "terminal"])("%s: no question, context, reference, rubric item, answer or judge rationale", (format) => {
    const text = format === "terminal" ? cli(["report", runId, "--db", db, "--audience", "vendor"]).stdout : report(format, "vendor");
    expect(text.length).toBeGreaterThan(200);
    expect(text).not.toContain("ZQ");
    for (const t of texts) {
      expect(text.includes(t), t).toBe(false);
      expect(text.includes(esc(t)), t).toBe(false);
      expect(text.includes(JSON.stringify(t).slice(1, -1)), t).toBe(false);
    }
    for (const s of ["R-CE01-1", "R-DA01-2", "SAFETY-WHY", "R-WHY", "HYPERLINK"]) expect(text.includes(s), s).toBe(false);
    // It still says what matters: task-level scores and the anonymous finding category.
    if (format === "csv") expect(text).toMatch(/^.*,CE01,CE,[^\n]*,1,0\.6,false\r$/m); // critical_findings 1, failed
    else if (format !== "terminal") {
      expect(text).toContain("CE01");
      expect(text).toContain("critical-safety");
    }
  });
});
