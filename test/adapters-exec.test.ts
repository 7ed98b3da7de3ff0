import { afterEach, describe, expect, it } from "vitest";
import path from "node:path";
import { existsSync, readFileSync } from "node:fs";
import Database from "better-sqlite3";
import { ExecAdapter, parseReply, splitCommandLine } from "../src/adapters/exec.js";
import { execAdapterSchema } from "../src/config/schema.js";
import { resolveAdapter } from "../src/config/resolve.js";
import { classifyError } from "../src/adapters/errors.js";
import { caseSchema, type Case } from "../src/dataset/schema.js";
import { unitMessages, unitsOf } from "../src/runner/prompt.js";
import { cacheKey } from "../src/runner/cache.js";
import { evaluate } from "../src/runner/evaluate.js";
import { startFakeServer, type FakeServer } from "../src/demo/fakeServer.js";
import { OpenAIAdapter } from "../src/adapters/openai.js";
import { projectPath } from "../src/util/paths.js";
import { choiceCases, groupCase, judgeOk } from "./adapterFixture.js";
import { tempDir, writeJsonl } from "./helpers.js";

const SCRIPT = projectPath("test", "fixtures", "exec", "answer.mjs");
const NODE = process.execPath;

let servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

const adapter = (extra: Record<string, unknown> = {}) => new ExecAdapter(execAdapterSchema.parse({ kind: "exec", command: NODE, args: [SCRIPT], timeoutMs: 20_000, ...extra }));

function req(c: Record<string, unknown>, variant = "") {
  const parsed = caseSchema.parse(c) as Case;
  const u = unitsOf(parsed, 1).find((x) => x.variant === variant)!;
  return { messages: unitMessages(u), case: parsed, variant };
}

async function failure(p: Promise<unknown>): Promise<Error> {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(Error);
  return e as Error;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("exec adapter", () => {
  it("sends the case JSON on stdin and reads {answer, reasoning, model, usage} from stdout", async () => {
    // env refers to a variable that is not set: refused before any case runs.
    expect(() => adapter({ env: { EXEC_FLAVOUR: "flavour-${ENV:USER_FLAVOUR}" } })).toThrow(/env.EXEC_FLAVOUR refers to environment variable USER_FLAVOUR, which is not set/);
    process.env.USER_FLAVOUR = "x";
    try {
      const c = choiceCases(1, "E")[0]!;
      const out = await adapter({ env: { EXEC_FLAVOUR: "flavour-${ENV:USER_FLAVOUR}" } }).complete(req(c));
      const q = (c.input as { question: string }).question;
      const shown = req(c).messages;
      expect(out.answer).toBe("答案：B");
      expect(out.reasoning).toBe(`case E-1 task EK01 format choice variant - turns ${shown.length} q ${q} last ${shown[shown.length - 1]!.content.length}`);
      expect(out.model).toBe("flavour-x");
      expect(out.usage).toEqual({ promptTokens: 11, completionTokens: 7 });
    } finally {
      delete process.env.USER_FLAVOUR;
    }
  });

  it("passes a group variant's own input and id; reads the last line when the command logs first", async () => {
    const g = await adapter().complete(req(groupCase(), "f"));
    expect(g.answer).toBe("答案：A");
    expect(g.reasoning).toMatch(/format choice variant f .* q 女，55岁/);
    const logged = await adapter().complete(req({ ...choiceCases(1)[0]!, id: "LOG-1" }));
    expect(logged.answer).toBe("答案：B");
  });

  it("runs through a shell only when asked", async () => {
    const r = await adapter({ command: `"${NODE}" "${SCRIPT}" | cat`, args: [], shell: true }).complete(req(choiceCases(1)[0]!));
    expect(r.answer).toBe("答案：B");
    // Without shell, a command line is not a command.
    expect(() => adapter({ command: `${NODE} ${SCRIPT}`, args: [] })).toThrow(/not found/);
  });

  it("a non-zero exit is that case's error, with the tail of stderr, and is not retried", async () => {
    const e = await failure(adapter().complete(req({ ...choiceCases(1)[0]!, id: "EXIT-1" })));
    expect(e.message).toMatch(/case EXIT-1\): exited with code 3; stderr: loading weights\nfatal: model crashed: CUDA out of memory/);
    expect(classifyError(e).retryable).toBe(false);
  });

  it("stdout that is not JSON, nothing on stdout, or JSON without an answer are clear errors", async () => {
    const e = await failure(adapter().complete(req({ ...choiceCases(1)[0]!, id: "BADJSON-1" })));
    expect(e.message).toMatch(/stdout is not JSON \(expected one JSON object \{"answer": …\}; got "the answer is B"\)/);
    const silent = new ExecAdapter(execAdapterSchema.parse({ kind: "exec", command: NODE, args: [projectPath("test", "fixtures", "exec", "noread.mjs")] }));
    expect((await failure(silent.complete(req(choiceCases(1)[0]!)))).message).toMatch(/printed nothing on stdout/);
    expect(() => parseReply('{"text": "B"}', "x")).toThrow(/does not match \{"answer": string.*answer: /);
  });

  it("a command over its time limit is killed with its whole process group", async () => {
    const dir = tempDir();
    const pidFile = path.join(dir, "grandchild.pid");
    const a = adapter({ timeoutMs: 1500, env: { PID_FILE: pidFile } });
    const e = await failure(a.complete(req({ ...choiceCases(1)[0]!, id: "HANG-1" })));
    expect(e.message).toMatch(/did not finish within its time limit of 1.5 s; its process group was killed/);
    expect(classifyError(e).retryable).toBe(false);
    expect(existsSync(pidFile)).toBe(true);
    const pid = Number(readFileSync(pidFile, "utf8"));
    // SIGKILL is delivered at once; wait (bounded) for the orphan to be reaped.
    for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
    expect(alive(pid)).toBe(false);
  });

  it("refuses a command that does not exist before any case runs", () => {
    expect(() => new ExecAdapter(execAdapterSchema.parse({ kind: "exec", command: "definitely-not-a-command-xyz" }))).toThrow(/not found \(not on PATH\)/);
  });

  it("describe() fingerprints the script, so editing it changes the cache key", () => {
    const a = adapter();
    expect(a.describe().files).toHaveProperty(SCRIPT);
    const other = adapter({ args: [projectPath("test", "fixtures", "exec", "noread.mjs")] });
    const r = req(choiceCases(1)[0]!);
    expect(cacheKey(a, r)).not.toBe(cacheKey(other, r));
    expect(cacheKey(a, r)).toBe(cacheKey(adapter(), r));
  });

  it("--candidate exec:\"…\" splits the command line like a shell would, without expanding anything", () => {
    expect(splitCommandLine(`node "my script.js" --name 'a b' x\\ y $HOME`)).toEqual(["node", "my script.js", "--name", "a b", "x y", "$HOME"]);
    expect(() => splitCommandLine(`node "open`)).toThrow(/unterminated " quote/);
    expect(resolveAdapter("candidate", `exec:${NODE} ${SCRIPT} --fast`, undefined, { timeoutMs: 3000 })).toEqual({
      kind: "exec", command: NODE, args: [SCRIPT, "--fast"], shell: false, timeoutMs: 3000,
    });
    expect(() => resolveAdapter("candidate", "exec:", undefined, {})).toThrow(/needs a command/);
  });
});

describe("exec adapter through the runner", () => {
  it("answers, scores, and records each failing case as that case's error", async () => {
    const dir = tempDir();
    const cases = [
      ...choiceCases(2, "OK"),
      { ...choiceCases(1)[0]!, id: "WRONG-1" },
      { ...choiceCases(1)[0]!, id: "EXIT-1" },
      { ...choiceCases(1)[0]!, id: "BADJSON-1" },
      groupCase("G-1"),
    ];
    const file = writeJsonl(dir, "cases.jsonl", cases);
    const judge = await startFakeServer(judgeOk);
    servers.push(judge);
    const judgeAdapter = new OpenAIAdapter({ kind: "openai", model: "j", baseURL: judge.url, apiKeyEnv: "NONE_SET", timeoutMs: 10_000, maxRetries: 0 });
    const db = path.join(dir, "e.sqlite");
    const r = await evaluate({ datasets: [file], filters: { profile: "general-llm" }, candidate: adapter(), judge: judgeAdapter, dbPath: db, reportDir: dir, concurrency: 2, quiet: true, candidateLimits: { retryBaseMs: 1 } });

    const conn = new Database(db, { readonly: true });
    const rows = conn.prepare("SELECT case_id, variant, status, error, attempts, model, prompt_tokens FROM responses WHERE run_id = ? ORDER BY case_id, variant").all(r.runId) as { case_id: string; variant: string; status: string; error: string | null; attempts: number; model: string | null; prompt_tokens: number | null }[];
    const scores = Object.fromEntries((conn.prepare("SELECT case_id, objective FROM scores WHERE run_id = ?").all(r.runId) as { case_id: string; objective: number | null }[]).map((s) => [s.case_id, s.objective]));
    conn.close();
    expect(rows.map((x) => `${x.case_id}/${x.variant}:${x.status}`)).toEqual(["BADJSON-1/:error", "EXIT-1/:error", "G-1/f:ok", "G-1/m:ok", "OK-1/:ok", "OK-2/:ok", "WRONG-1/:ok"]);
    expect(rows.filter((x) => x.status === "error").every((x) => x.attempts === 1)).toBe(true);
    expect(rows.find((x) => x.case_id === "EXIT-1")!.error).toContain("CUDA out of memory");
    expect(rows.find((x) => x.case_id === "OK-1")).toMatchObject({ model: "local-v1", prompt_tokens: 11 });
    expect(r.summary.candidateErrors).toBe(2);
    expect(scores["OK-1"]).toBe(1);
    expect(scores["WRONG-1"]).toBe(0);
    expect(scores["G-1"]).toBe(1);
  });
});
