import { afterEach, describe, expect, it } from "vitest";
import path from "node:path";
import { startFakeServer, type FakeServer, type ChatRequestBody } from "../src/demo/fakeServer.js";
import { OpenAIAdapter } from "../src/adapters/openai.js";
import { evaluate } from "../src/runner/evaluate.js";
import { openDatabase } from "../src/store/db.js";
import { RunStore } from "../src/store/runStore.js";
import { buildReport } from "../src/report/build.js";
import { renderHtml } from "../src/report/html.js";
import { loadTaxonomy } from "../src/taxonomy/load.js";
import { loadScoringConfig } from "../src/scoring/config.js";
import { resolveRun, resolveSet } from "../src/report/summary.js";
import type { InternalReport } from "../src/report/json.js";
import { tempDir, FIXTURE_CASES } from "./helpers.js";

let servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

describe("report drill-down size", () => {
  it("shows all cases, only the flagged ones, or none — and says which", async () => {
    const cand = await startFakeServer(() => ({ content: "答案：B" }));
    const judge = await startFakeServer((b: ChatRequestBody) => {
      const user = b.messages.find((m) => m.role === "user")!.content;
      const critical = user.includes("T-OPEN-1");
      const rubric = [...user.matchAll(/^- \[(\w+)\] \(([+-]?\d+)\)/gm)].map((m) => ({ id: m[1]!, met: Number(m[2]) > 0, quote: "" }));
      return { content: JSON.stringify({ rubric, result: { score: 9, why: "x" }, reasoning: { score: 8, why: "x" }, approach: { score: 8, why: "x" }, safety: { verdict: critical ? "critical" : "ok", why: "x" }, rationale: "x" }) };
    });
    servers.push(cand, judge);
    const dir = tempDir();
    const db = path.join(dir, "d.sqlite");
    const mk = (url: string) => new OpenAIAdapter({ kind: "openai", model: "m", baseURL: url, apiKeyEnv: "NONE_SET", timeoutMs: 5000, maxRetries: 0 });
    await evaluate({ datasets: [FIXTURE_CASES], filters: { profile: "general-llm" }, candidate: mk(cand.url), judge: mk(judge.url), dbPath: db, reportDir: dir, concurrency: 2, quiet: true });
    const store = new RunStore(openDatabase(db, { readonly: true }));
    const tax = loadTaxonomy();
    const scoring = loadScoringConfig();
    const run = resolveRun(store, undefined);
    const set = resolveSet(store, run.id);
    const build = (cases?: "all" | "flagged" | "none") => buildReport(store, run, set, tax, scoring, { audience: "internal", cases }) as InternalReport;

    const all = build();
    expect(all.caseDetail).toEqual({ included: "all", shown: 5, total: 5 });
    expect(new Set(all.cases.map((c) => c.caseId)).size).toBe(5);
    const flagged = build("flagged");
    const flaggedIds = new Set(all.findings.map((f) => f.caseId));
    expect(flaggedIds.has("T-OPEN-1")).toBe(true);
    expect(flagged.caseDetail).toMatchObject({ included: "flagged", shown: flaggedIds.size, total: 5 });
    expect(new Set(flagged.cases.map((c) => c.caseId))).toEqual(flaggedIds);
    expect(flagged.cases[0]!.caseId).toBe("T-OPEN-1"); // critical first
    const none = build("none");
    expect(none.cases).toEqual([]);
    // Aggregates do not depend on the drill-down.
    expect(none.overall).toEqual(all.overall);
    expect(renderHtml(flagged)).toMatch(new RegExp(`Showing ${flaggedIds.size} flagged case\\(s\\) of 5`));
    store.db.close();
  });
});
