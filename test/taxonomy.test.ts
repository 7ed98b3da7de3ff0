import { describe, expect, it } from "vitest";
import { writeFileSync, readFileSync } from "node:fs";
import path from "node:path";
import { loadTaxonomy, resolveProfile, DEFAULT_TAXONOMY_PATH } from "../src/taxonomy/load.js";
import { tempDir, cli } from "./helpers.js";

const DIMS = ["CE", "EK", "GA", "QC", "WF", "DA"];
const SAFETY_CRITICAL = ["CE01", "CE04", "CE07", "CE08", "QC03", "QC08", "WF05", "DA06"];

describe("taxonomy", () => {
  const tax = loadTaxonomy();

  it("has exactly 72 tasks, 12 per dimension, with the spec's ids", () => {
    expect(tax.tasks).toHaveLength(72);
    const expected = DIMS.flatMap((d) => Array.from({ length: 12 }, (_, i) => `${d}${String(i + 1).padStart(2, "0")}`));
    expect(tax.tasks.map((t) => t.id).sort()).toEqual(expected.sort());
    for (const d of DIMS) expect(tax.tasks.filter((t) => t.dimension === d)).toHaveLength(12);
  });

  it("marks exactly the spec's safety-critical tasks", () => {
    expect(tax.tasks.filter((t) => t.safetyCritical).map((t) => t.id).sort()).toEqual([...SAFETY_CRITICAL].sort());
  });

  it("gives tasks the spec's formats", () => {
    expect(tax.task("CE06")?.format).toBe("group");
    expect(tax.task("CE02")?.format).toBe("extraction");
    expect(tax.task("EK09")?.format).toBe("numeric");
    expect(tax.task("WF02")?.format).toBe("dialogue");
    expect(tax.task("DA09")?.format).toBe("choice");
    expect(tax.task("EK01")?.zh).toBe("基础医学知识");
  });

  it("resolves every profile and always includes CE", () => {
    expect(tax.profiles.map((p) => p.id).sort()).toEqual(
      ["diagnostic-assistant", "general-llm", "mental-health", "prescription-review", "record-quality", "thoracic-surgery", "triage-consultation"],
    );
    for (const p of tax.profiles) {
      const sel = resolveProfile(tax, p.id);
      for (let i = 1; i <= 12; i++) expect(sel.taskIds).toContain(`CE${String(i).padStart(2, "0")}`);
    }
    expect(resolveProfile(tax, "general-llm").taskIds).toHaveLength(72);
    expect(resolveProfile(tax, "prescription-review").taskIds).toEqual(
      [...Array.from({ length: 12 }, (_, i) => `CE${String(i + 1).padStart(2, "0")}`), "EK03", "EK04", "GA12", "QC03", "QC04", "DA06", "DA12"],
    );
    const thoracic = resolveProfile(tax, "thoracic-surgery");
    expect(thoracic.specialties).toEqual(["胸外科"]);
    expect(thoracic.taskIds).toContain("DA07");
    expect(thoracic.taskIds).not.toContain("DA06");
  });

  it("rejects an unknown profile by name", () => {
    expect(() => resolveProfile(tax, "radiology")).toThrow(/unknown profile "radiology".*general-llm/);
  });

  it("rejects a profile that names an unknown task, saying which", () => {
    const raw = JSON.parse(readFileSync(DEFAULT_TAXONOMY_PATH, "utf8"));
    raw.profiles[1].tasks.push("DA13");
    const file = path.join(tempDir(), "taxonomy.json");
    writeFileSync(file, JSON.stringify(raw));
    expect(() => loadTaxonomy(file)).toThrow(/profiles\.diagnostic-assistant\.tasks: unknown task id "DA13"/);
  });

  it("has a content hash that changes with the content", () => {
    const raw = JSON.parse(readFileSync(DEFAULT_TAXONOMY_PATH, "utf8"));
    raw.version = "9.9.9";
    const file = path.join(tempDir(), "taxonomy.json");
    writeFileSync(file, JSON.stringify(raw));
    expect(loadTaxonomy(file).hash).not.toBe(tax.hash);
    expect(tax.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("`medeval tasks --profile --json` prints the profile's tasks", () => {
    const r = cli(["tasks", "--profile", "mental-health", "--json"]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { tasks: { id: string }[] };
    expect(out.tasks.map((t) => t.id)).toEqual([
      ...Array.from({ length: 12 }, (_, i) => `CE${String(i + 1).padStart(2, "0")}`), "GA05", "GA06", "GA10", "WF02", "WF05", "WF12",
    ]);
  });

  it("`medeval tasks` prints a table with Chinese and English names and exits 2 on a bad dimension", () => {
    const r = cli(["tasks", "--dimension", "DA"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("初步诊断");
    expect(r.stdout).toContain("Primary diagnosis");
    const bad = cli(["tasks", "--dimension", "XX"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown dimension "XX"/);
  });
});
