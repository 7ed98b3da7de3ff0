// The built-in benchmark (datasets/cases, datasets/pairs) meets the bar issue 3 sets for it.
import { beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { loadDatasets, parseCaseRecord, type LoadResult } from "../src/dataset/load.js";
import { groupVariantDiffers } from "../src/dataset/checks.js";
import { formatIssue } from "../src/util/errors.js";
import { loadTaxonomy } from "../src/taxonomy/load.js";
import { planCases } from "../src/runner/plan.js";
import { projectPath } from "../src/util/paths.js";
import type { GroupCase } from "../src/dataset/schema.js";

const tax = loadTaxonomy();
const CASES = projectPath("datasets", "cases");
const PAIRS = projectPath("datasets", "pairs", "reasoning-pairs.jsonl");
const MIN_PER_TASK = 4;
const MIN_THORACIC = 40;
const MIN_PAIRS = 10;
const DEMOGRAPHIC = ["sex", "age", "ethnicity", "region", "insurance"];

let res: LoadResult;
beforeAll(async () => {
  res = await loadDatasets([CASES], tax);
});

describe("built-in datasets", () => {
  it("every case validates with no errors and no warnings", () => {
    expect(res.issues.map(formatIssue)).toEqual([]);
    expect(res.cases.length).toBeGreaterThanOrEqual(tax.tasks.length * MIN_PER_TASK);
  });

  it(`every one of the ${tax.tasks.length} tasks has at least ${MIN_PER_TASK} cases`, () => {
    expect(tax.tasks).toHaveLength(72);
    const count = new Map<string, number>();
    for (const { case: c } of res.cases) count.set(c.task, (count.get(c.task) ?? 0) + 1);
    const short = tax.tasks.filter((t) => (count.get(t.id) ?? 0) < MIN_PER_TASK).map((t) => `${t.id}:${count.get(t.id) ?? 0}`);
    expect(short).toEqual([]);
  });

  it("every open or dialogue case of a safety-critical (★) task has a negative rubric item", () => {
    const starred = new Set(tax.tasks.filter((t) => t.safetyCritical).map((t) => t.id));
    expect(starred.size).toBeGreaterThan(0);
    const cases = res.cases.filter(({ case: c }) => starred.has(c.task) && (c.format === "open" || c.format === "dialogue"));
    expect(cases.length).toBeGreaterThan(0);
    const missing = cases.filter(({ case: c }) => !(c.reference.rubric ?? []).some((r) => r.points < 0)).map(({ case: c }) => c.id);
    expect(missing).toEqual([]);
  });

  it("CE06 fairness groups vary a demographic attribute and differ only in its value", () => {
    const groups = res.cases.map((l) => l.case).filter((c): c is GroupCase => c.task === "CE06" && c.format === "group");
    expect(groups.length).toBeGreaterThanOrEqual(MIN_PER_TASK);
    for (const g of groups) {
      expect(DEMOGRAPHIC, g.id).toContain(g.attribute);
      expect(groupVariantDiffers(g), g.id).toEqual([]);
    }
  });

  it(`at least ${MIN_THORACIC} thoracic-surgery (胸外科) cases, all in the thoracic-surgery profile's plan`, () => {
    const thoracic = res.cases.filter(({ case: c }) => c.provenance.specialty === "胸外科").map(({ case: c }) => c.id);
    expect(thoracic.length).toBeGreaterThanOrEqual(MIN_THORACIC);
    const planned = new Set(planCases(res.cases, tax, { profile: "thoracic-surgery" }).map(({ case: c }) => c.id));
    expect(thoracic.filter((id) => !planned.has(id))).toEqual([]);
  });

  it("every dimension has common, rare and difficult cases", () => {
    const seen = new Set(res.cases.map(({ case: c, dimension }) => `${dimension}/${c.provenance.difficulty}`));
    const missing = tax.dimensions.flatMap((d) => ["common", "rare", "difficult"].map((level) => `${d.id}/${level}`)).filter((k) => !seen.has(k));
    expect(missing).toEqual([]);
  });
});

describe("reasoning pairs", () => {
  const lines = readFileSync(PAIRS, "utf8").split("\n").map((l, i) => ({ line: i + 1, text: l.trim() })).filter((l) => l.text);

  it(`has at least ${MIN_PAIRS} pairs`, () => {
    expect(lines.length).toBeGreaterThanOrEqual(MIN_PAIRS);
  });

  it("each pair holds a valid case and two non-empty answers", () => {
    for (const { line, text } of lines) {
      const pair = JSON.parse(text) as { case: unknown; sound?: { answer?: unknown }; flawed?: { answer?: unknown } };
      const r = parseCaseRecord(pair.case, PAIRS, line, tax);
      expect(r.issues.filter((i) => i.severity === "error").map(formatIssue)).toEqual([]);
      expect(r.case, `line ${line}`).toBeDefined();
      for (const side of ["sound", "flawed"] as const) {
        const answer = pair[side]?.answer;
        expect(typeof answer === "string" && answer.trim().length > 0, `line ${line}: ${side}.answer`).toBe(true);
      }
    }
  });
});
