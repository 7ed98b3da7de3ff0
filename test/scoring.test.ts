import { describe, expect, it } from "vitest";
import { extractChoice, scoreChoice } from "../src/scoring/choice.js";
import { extractNumber, scoreNumeric } from "../src/scoring/numeric.js";
import { scoreExtraction, parseJsonObject } from "../src/scoring/extraction.js";
import { rubricScore } from "../src/scoring/rubric.js";
import { combine, groupScore } from "../src/scoring/caseScore.js";
import { aggregate } from "../src/scoring/aggregate.js";
import { seededRandom } from "../src/util/random.js";
import { loadScoringConfig } from "../src/scoring/config.js";
import { loadTaxonomy } from "../src/taxonomy/load.js";

const KEYS = ["A", "B", "C", "D", "E"];

describe("choice extraction", () => {
  it.each([
    ["答案：B", ["B"]],
    ["答案: b", ["B"]],
    ["正确答案是 C。", ["C"]],
    ["综上，选 B", ["B"]],
    ["我选择D。", ["D"]],
    ["(B)", ["B"]],
    ["答案为（E）", ["E"]],
    ["B. 国际标准化比值", ["B"]],
    ["B", ["B"]],
    ["The answer is (C).", ["C"]],
    ["Answer: A", ["A"]],
    ["答案：ＡＣ", ["A", "C"]],
    ["答案：A、C、D", ["A", "C", "D"]],
    ["分析A选项不对，B也不对……\n答案：C", ["C"]],
    ["先考虑答案：A，再想想，最终答案：D", ["D"]],
  ])("%j → %j", (text, keys) => {
    expect(extractChoice(text, KEYS)).toEqual(keys);
  });

  it("returns null when no option is named, and ignores letters outside the options", () => {
    expect(extractChoice("我不确定，需要更多信息。", KEYS)).toBeNull();
    expect(extractChoice("答案：F", KEYS)).toBeNull();
    expect(extractChoice("CT showed a mass", KEYS)).toBeNull();
  });

  it("scores multi-select by exact match and Jaccard", () => {
    expect(scoreChoice("答案：AC", ["A", "C"], KEYS)).toMatchObject({ exact: true, jaccard: 1 });
    const partial = scoreChoice("答案：ACD", ["A", "C"], KEYS);
    expect(partial.exact).toBe(false);
    expect(partial.jaccard).toBeCloseTo(2 / 3, 10);
    expect(scoreChoice("答案：B", "B", KEYS)).toMatchObject({ exact: true });
    expect(scoreChoice("答案：C", "B", KEYS)).toMatchObject({ exact: false, jaccard: 0 });
  });
});

describe("numeric", () => {
  it("takes the marked answer, else the last number", () => {
    expect(extractNumber("BMI = 72/1.7² ≈ 24.9\n答案：24.9 kg/m²")).toBe(24.9);
    expect(extractNumber("计算得 1,234.5 mL")).toBe(1234.5);
    expect(extractNumber("答案：－3.5")).toBe(-3.5);
    expect(extractNumber("先算 2 再算 3，结果为 ５")).toBe(5);
    expect(extractNumber("无法计算")).toBeNull();
  });

  it("applies absolute and relative tolerance", () => {
    expect(scoreNumeric("答案：25.0", 24.9, { abs: 0.1 }).within).toBe(true);
    expect(scoreNumeric("答案：25.1", 24.9, { abs: 0.1 }).within).toBe(false);
    expect(scoreNumeric("答案：104", 100, { rel: 0.05 }).within).toBe(true);
    expect(scoreNumeric("答案：106", 100, { rel: 0.05 }).within).toBe(false);
  });
});

describe("extraction F1", () => {
  const gold = { 症状: ["咳嗽", "发热"], 诊断: ["急性支气管炎"], 药物: ["对乙酰氨基酚"] };

  it("is 1 for an exact answer, in any key or list order, inside a code fence", () => {
    const ans = "```json\n{\"药物\":[\"对乙酰氨基酚\"],\"症状\":[\"发热\",\"咳嗽\"],\"诊断\":[\"急性支气管炎\"]}\n```";
    expect(scoreExtraction(ans, gold)).toMatchObject({ parsed: true, precision: 1, recall: 1, f1: 1 });
  });

  it("computes precision and recall over facts", () => {
    // 3 of 4 gold facts, plus 1 wrong fact: P = 3/4, R = 3/4
    const s = scoreExtraction(JSON.stringify({ 症状: ["咳嗽", "头痛"], 诊断: ["急性支气管炎"], 药物: ["对乙酰氨基酚"] }), gold);
    expect(s.precision).toBeCloseTo(0.75, 10);
    expect(s.recall).toBeCloseTo(0.75, 10);
    expect(s.f1).toBeCloseTo(0.75, 10);
    expect(s.missing).toEqual(["症状[]=发热"]);
  });

  it("scores 0 when the answer has no JSON object", () => {
    expect(scoreExtraction("症状有咳嗽和发热", gold)).toMatchObject({ parsed: false, f1: 0 });
    expect(parseJsonObject("[1,2]")).toBeNull();
  });
});

describe("rubric points", () => {
  const items = [
    { id: "r1", points: 5 },
    { id: "r2", points: 3 },
    { id: "r3", points: -8 },
  ];
  it("is met positive points over total positive points", () => {
    expect(rubricScore(items, new Map([["r1", true], ["r2", false], ["r3", false]]))).toBeCloseTo(5 / 8, 10);
  });
  it("subtracts met negative items and clips at 0", () => {
    expect(rubricScore(items, new Map([["r1", true], ["r2", true], ["r3", true]]))).toBe(0); // (8 - 8) / 8
    expect(rubricScore(items, new Map([["r1", true], ["r3", true]]))).toBe(0); // (5 - 8) / 8 < 0 → 0
  });
  it("clips at 1", () => {
    expect(rubricScore([{ id: "a", points: 2 }], new Map([["a", true]]))).toBe(1);
  });
  it("with only negative items: 1 minus the share of negative points met", () => {
    const neg = [{ id: "n1", points: -6 }, { id: "n2", points: -2 }];
    expect(rubricScore(neg, new Map())).toBe(1);
    expect(rubricScore(neg, new Map([["n2", true]]))).toBeCloseTo(1 - 2 / 8, 10);
  });
  it("is null without items", () => {
    expect(rubricScore([], new Map())).toBeNull();
  });
});

describe("combining components", () => {
  it("renormalises the weights over the components present", () => {
    expect(combine({ rubric: 0.4, result: 0.25, reasoning: 0.2, approach: 0.15 }, { rubric: null, result: 1, reasoning: 0.5, approach: 0 }))
      .toBeCloseTo((0.25 * 1 + 0.2 * 0.5) / 0.6, 10);
    expect(combine({ objective: 1 }, { objective: null })).toBeNull();
  });
  it("group score = weighted mean and consistency from the scoring config", () => {
    const cfg = loadScoringConfig();
    const g = groupScore([0.9, 0.5], cfg);
    const w = cfg.formats.group;
    expect(g.mean).toBeCloseTo(0.7, 10);
    expect(g.consistency).toBeCloseTo(0.6, 10);
    expect(g.score).toBeCloseTo((w.variantMean * 0.7 + w.consistency * 0.6) / (w.variantMean + w.consistency), 10);
  });
});

describe("aggregation", () => {
  const tax = loadTaxonomy();
  const cases = [
    { caseId: "a", task: "DA01", dimension: "DA", score: 1 },
    { caseId: "b", task: "DA01", dimension: "DA", score: 0.5 },
    { caseId: "c", task: "DA02", dimension: "DA", score: 0.2 },
    { caseId: "d", task: "EK01", dimension: "EK", score: 0.9 },
    { caseId: "e", task: "EK01", dimension: "EK", score: null },
  ];
  const agg = aggregate(cases, tax, { iterations: 500, seed: 1 });

  it("task mean → dimension mean of task means → overall mean of dimensions", () => {
    expect(agg.tasks.find((t) => t.id === "DA01")).toMatchObject({ mean: 0.75, n: 2, unscored: 0 });
    expect(agg.tasks.find((t) => t.id === "EK01")).toMatchObject({ mean: 0.9, n: 1, unscored: 1 });
    expect(agg.dimensions.find((d) => d.id === "DA")!.mean).toBeCloseTo((0.75 + 0.2) / 2, 10);
    expect(agg.overall.mean).toBeCloseTo(((0.75 + 0.2) / 2 + 0.9) / 2, 10);
    expect(agg.dimensions.find((d) => d.id === "QC")!.mean).toBeNull();
  });

  it("weights dimensions", () => {
    const w = aggregate(cases, tax, { iterations: 200, seed: 1, weights: { DA: 3, EK: 1 } });
    expect(w.overall.mean).toBeCloseTo((3 * 0.475 + 0.9) / 4, 10);
  });

  it("bootstrap intervals contain the mean, lie in the data's range, and are reproducible", () => {
    const da01 = agg.tasks.find((t) => t.id === "DA01")!;
    expect(da01.lo!).toBeLessThanOrEqual(0.75);
    expect(da01.hi!).toBeGreaterThanOrEqual(0.75);
    expect(da01.lo!).toBeGreaterThanOrEqual(0.5);
    expect(da01.hi!).toBeLessThanOrEqual(1);
    expect(da01.hi! - da01.lo!).toBeGreaterThan(0);
    // a single case has no spread
    expect(agg.tasks.find((t) => t.id === "DA02")).toMatchObject({ lo: 0.2, hi: 0.2 });
    expect(aggregate(cases, tax, { iterations: 500, seed: 1 })).toEqual(agg);
  });

  it("the bootstrap is the plain percentile bootstrap over seededRandom draws (checked against a direct implementation)", () => {
    // Many tasks of uneven size, scores with many distinct values: any change in draw order or index shows.
    const rnd0 = seededRandom(99);
    const many = Array.from({ length: 900 }, (_, i) => {
      const task = tax.tasks[i % 17]!;
      return { caseId: `m${i}`, task: task.id, dimension: task.dimension, score: i % 23 === 0 ? null : Math.round(rnd0() * 100) / 100 };
    });
    const iterations = 300;
    const seed = 12345;
    const got = aggregate(many, tax, { iterations, seed });
    // Direct: per iteration, every task (in first-seen order) draws floor(u × n) n times.
    const rnd = seededRandom(seed);
    const byTask = new Map<string, number[]>();
    for (const c of many) if (c.score !== null) byTask.set(c.task, [...(byTask.get(c.task) ?? []), c.score]);
    const samples = new Map<string, number[]>([...byTask.keys()].map((t) => [t, []]));
    for (let b = 0; b < iterations; b++) {
      for (const [t, xs] of byTask) {
        let sum = 0;
        for (let i = 0; i < xs.length; i++) sum += xs[Math.floor(rnd() * xs.length)]!;
        samples.get(t)!.push(sum / xs.length);
      }
    }
    for (const [t, xs] of samples) {
      const sorted = [...xs].sort((a, b) => a - b);
      const at = (p: number) => sorted[Math.round(p * (sorted.length - 1))];
      expect(got.tasks.find((x) => x.id === t)).toMatchObject({ lo: at(0.025), hi: at(0.975) });
    }
  });
});
