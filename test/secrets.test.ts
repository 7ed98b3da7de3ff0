// A unique fake key for each endpoint, every command a user runs, then every byte produced is searched for the keys.
import { afterEach, describe, expect, it } from "vitest";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { startFakeServer, type FakeServer, type ChatRequestBody } from "../src/demo/fakeServer.js";
import { tempDir, cliAsync, FIXTURE_CASES } from "./helpers.js";

let servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

function judgeReply(b: ChatRequestBody) {
  const user = b.messages.find((m) => m.role === "user")!.content;
  const rubric = [...user.matchAll(/^- \[(\w+)\] \(([+-]?\d+)\)/gm)].map((m) => ({ id: m[1]!, met: Number(m[2]) > 0, quote: "" }));
  return { content: JSON.stringify({ rubric, result: { score: 8, why: "x" }, reasoning: { score: 7, why: "x" }, approach: { score: 7, why: "x" }, safety: { verdict: "ok", why: "x" }, rationale: "x" }) };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe("secrets", () => {
  it("API keys reach the endpoints and nothing else: database, reports, exports, logs, errors", { timeout: 300_000 }, async () => {
    const cand = await startFakeServer(() => ({ content: "答案：B" }));
    const judge = await startFakeServer(judgeReply);
    servers.push(cand, judge);
    const dir = tempDir();
    const unique = () => `sk-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}-MEDEVAL-SECRET`;
    const candKey = unique();
    const judgeKey = unique();
    const env = { CAND_KEY: candKey, JUDGE_KEY: judgeKey };
    const db = path.join(dir, "s.sqlite");
    const out = path.join(dir, "out");
    const runArgs = ["--datasets", FIXTURE_CASES, "--candidate", "openai:cand", "--base-url", cand.url, "--api-key-env", "CAND_KEY",
      "--judge", "openai:judge", "--judge-base-url", judge.url, "--judge-api-key-env", "JUDGE_KEY", "--db", db, "--out", out];
    const policy = path.join(dir, "gate.json");
    writeFileSync(policy, JSON.stringify({ minOverall: 0.1 }));
    const outputs: string[] = [];
    const step = async (args: string[], expectCode?: number) => {
      const r = await cliAsync(args, env);
      outputs.push(r.stdout, r.stderr);
      if (expectCode !== undefined) expect(r.code, `${args.join(" ")}\n${r.stderr}`).toBe(expectCode);
      return r;
    };

    await step(["run", ...runArgs], 0);
    // A second run with a different key value: every answer comes from the cache, so the key is not in the cache key.
    const second = await cliAsync(["run", ...runArgs, "--json"], { CAND_KEY: unique(), JUDGE_KEY: unique() });
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout).execution.cacheHits).toBe(6);
    outputs.push(second.stdout, second.stderr);
    for (const fmt of ["terminal", "md", "html", "json", "csv", "junit"]) {
      for (const audience of ["internal", "vendor"]) await step(["report", "--db", db, "--format", fmt, "--audience", audience, "--out", path.join(out, `r-${audience}.${fmt}`)], 0);
    }
    await step(["review", "export", "--db", db, "--format", "csv", "--out", path.join(out, "review.csv")]);
    await step(["review", "export", "--db", db, "--format", "jsonl", "--out", path.join(out, "review.jsonl")]);
    await step(["review", "queue", "--db", db, "--json"]);
    await step(["rejudge", "--db", db, "--judge", "openai:judge", "--judge-base-url", judge.url, "--judge-api-key-env", "JUDGE_KEY", "--label", "again", "--no-cache", "--json"]);
    await step(["calibrate", "--db", db, "--json"]);
    await step(["gate", "--db", db, "--policy", policy, "--json"]);
    await step(["runs", "--db", db, "--json"], 0);
    await step(["cache", "stats", "--db", db, "--json"], 0);
    // Errors must not echo keys either: an unreachable endpoint.
    await step(["run", "--datasets", FIXTURE_CASES, "--candidate", "openai:cand", "--base-url", "http://127.0.0.1:9/v1", "--api-key-env", "CAND_KEY",
      "--judge", "openai:judge", "--judge-base-url", judge.url, "--judge-api-key-env", "JUDGE_KEY", "--db", path.join(dir, "err.sqlite"), "--out", out, "--max-attempts", "1", "--no-cache"]);

    // The keys did travel where they must.
    expect(cand.requests.some((r) => r.headers.authorization === `Bearer ${candKey}`)).toBe(true);
    expect(judge.requests.some((r) => r.headers.authorization === `Bearer ${judgeKey}`)).toBe(true);

    const files = filesUnder(dir);
    expect(files.filter((f) => /\.(html|json|csv|jsonl|md|junit|terminal)$/.test(f)).length).toBeGreaterThanOrEqual(14);
    expect(files.some((f) => f.endsWith(".sqlite"))).toBe(true);
    for (const f of files) {
      const bytes = readFileSync(f);
      for (const key of [candKey, judgeKey]) expect(bytes.includes(Buffer.from(key)), `${f} contains a key`).toBe(false);
    }
    for (const text of outputs) for (const key of [candKey, judgeKey]) expect(text.includes(key)).toBe(false);
  });
});
