import { describe, expect, it } from "vitest";
import path from "node:path";
import { scanCase, validResidentId, isLoopback } from "../src/dataset/pii.js";
import { evaluate, findIdentifiers, refuseIdentifiers } from "../src/runner/evaluate.js";
import { OpenAIAdapter } from "../src/adapters/openai.js";
import { MockAdapter } from "../src/adapters/mock.js";
import { caseSchema } from "../src/dataset/schema.js";
import { tempDir, writeJsonl, validOpenCase } from "./helpers.js";

/** The check digit computed here from GB 11643-1999's weights, independently of the code under test. */
function withCheckDigit(first17: string): string {
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((a, d, i) => a + Number(d) * w[i]!, 0);
  return first17 + "10X98765432"[sum % 11];
}

const withPii = {
  ...validOpenCase,
  id: "PII-1",
  input: {
    context: `患者姓名：王小明，身份证号 ${withCheckDigit("11010519850315123")}，电话 138-1234-5678，邮箱 wxm@example.com。发热3天。`,
    question: "最可能的诊断？",
  },
};

describe("personal identifier scan", () => {
  it("validates resident ID check digits", () => {
    const good = withCheckDigit("44030419900101001");
    expect(validResidentId(good)).toBe(true);
    const wrongDigit = good.slice(0, 17) + (good[17] === "0" ? "1" : "0");
    expect(validResidentId(wrongDigit)).toBe(false);
    expect(validResidentId("440304199013010011")).toBe(false); // month 13
  });

  it("finds ID numbers, mobiles, emails and names, masked, with the field", () => {
    const f = scanCase(caseSchema.parse(withPii));
    expect(f.map((x) => x.kind).sort()).toEqual(["email", "mobile", "name", "resident-id"]);
    expect(f.every((x) => x.field === "input.context")).toBe(true);
    const id = f.find((x) => x.kind === "resident-id")!;
    expect(id.masked).toMatch(/^\d{4}\*+\d{3}[\dX]$/);
    expect(id.masked).not.toContain("19850315");
  });

  it("ignores 18-digit numbers that fail the check digit and plain case descriptions", () => {
    const c = caseSchema.parse({ ...validOpenCase, input: { context: "患者，男，45岁。检验编号 123456789012345678。", question: "诊断？" } });
    expect(scanCase(c)).toEqual([]);
  });

  it("knows loopback endpoints", () => {
    expect(isLoopback("http://127.0.0.1:8000/v1")).toBe(true);
    expect(isLoopback("http://localhost/v1")).toBe(true);
    expect(isLoopback("http://[::1]:1234/v1")).toBe(true);
    expect(isLoopback("https://api.example.com/v1")).toBe(false);
    expect(isLoopback(undefined)).toBe(false);
  });

  it("refuses to send identifiers off the machine, unless tagged synthetic-identifiers; loopback is fine", async () => {
    process.env.MEDEVAL_PII_KEY = "dummy";
    const remote = new OpenAIAdapter({ kind: "openai", model: "m", baseURL: "http://medeval-test.invalid/v1", apiKeyEnv: "MEDEVAL_PII_KEY", timeoutMs: 1000, maxRetries: 0 });
    const local = new OpenAIAdapter({ kind: "openai", model: "m", baseURL: "http://127.0.0.1:9/v1", apiKeyEnv: "MEDEVAL_PII_KEY", timeoutMs: 1000, maxRetries: 0 });
    const lc = (c: unknown) => ({ case: caseSchema.parse(c), file: "x.jsonl", line: 3, dimension: "DA", contentHash: "h" });
    expect(() => refuseIdentifiers(findIdentifiers(lc(withPii)), [remote])).toThrow(/x\.jsonl:3: PII-1 input\.context: resident-id .*--allow-identifiers/s);
    expect(() => refuseIdentifiers(findIdentifiers(lc({ ...withPii, tags: ["synthetic-identifiers"] })), [remote])).not.toThrow();
    expect(() => refuseIdentifiers(findIdentifiers(lc(withPii)), [local, new MockAdapter({ kind: "mock", strategy: "reference" })])).not.toThrow();
    // End to end: the run stops before anything is sent or stored.
    const dir = tempDir();
    const file = writeJsonl(dir, "p.jsonl", [withPii]);
    await expect(evaluate({ datasets: [file], filters: { profile: "general-llm" }, candidate: remote, judge: local, dbPath: path.join(dir, "p.sqlite"), reportDir: dir, concurrency: 1, quiet: true }))
      .rejects.toThrow(/personal identifiers found in 1 case/);
    delete process.env.MEDEVAL_PII_KEY;
  });
});
