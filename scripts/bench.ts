// npm run bench — measures the harness's own cost as a user would meet it: the CLI in a child process, a real
// database file, a loopback fake model server in another process with a fixed latency. Prints figures; asserts nothing.
//
//   npm run bench -- --sizes 1000,10000 --latency 100 --concurrency 32,128 --big 100000
//   npm run bench -- --sizes 1000 --concurrency 32 --big 0          (quick)
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, statSync, writeFileSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { projectPath } from "../src/util/paths.js";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const SIZES = arg("sizes", "1000,10000").split(",").map(Number);
const LATENCY = Number(arg("latency", "100"));
const CONCURRENCY = arg("concurrency", "32,128").split(",").map(Number);
const BIG = Number(arg("big", "100000"));
const work = mkdtempSync(path.join(tmpdir(), "medeval-bench-"));

/** n choice cases; `tag` makes the texts unique to a scenario, so the server's repeat count means that scenario. */
function writeCases(n: number, tag = ""): string {
  const file = path.join(work, `cases-${n}${tag}.jsonl`);
  if (existsSync(file)) return file;
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    lines.push(JSON.stringify({
      id: `B-${i}`, task: "EK01", format: "choice",
      input: { question: `${tag}第${i}题：正常成人静息心率的范围是？`, options: { A: "40–50次/分", B: "60–100次/分", C: "100–120次/分", D: "120–140次/分" } },
      reference: { answer: "B", rationale: "生理学教材：成人静息心率60–100次/分。" },
      provenance: { source: "synthetic", difficulty: "common", specialty: "全科", language: "zh", synthetic: true },
    }));
  }
  writeFileSync(file, lines.join("\n") + "\n");
  return file;
}

interface Server { url: string; proc: ChildProcess; stats(): Promise<{ requests: number; duplicates: number }>; stop(): Promise<void> }

async function startServer(latency: number): Promise<Server> {
  const proc = spawn(process.execPath, ["--import", "tsx", projectPath("scripts", "fake-server.ts"), String(latency)], { stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise<string>((resolve) => createInterface({ input: proc.stdout! }).once("line", resolve));
  return {
    url, proc,
    stats: async () => (await (await fetch(url.replace(/\/v1$/, "/v1/__stats"))).json()) as { requests: number; duplicates: number },
    stop: () => new Promise((r) => { proc.once("exit", () => r()); proc.kill("SIGTERM"); }),
  };
}

/**
 * The fake server is a Node process too, and its first replies run before V8 has optimised it: unwarmed, the first
 * scenario measured its start-up as well (1,000 cases at c32 read 89.5 % of the limit instead of ~90.5 %). Warm it
 * with plain requests first, so the figures are the harness's.
 */
async function warm(server: Server, pairs = 1000, concurrency = 64): Promise<void> {
  let left = pairs;
  const call = (model: string) => fetch(`${server.url}/chat/completions`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model, messages: [{ role: "user", content: "warm-up" }] }),
  }).then((r) => r.text());
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (left-- > 0) for (const model of ["cand-bench", "judge-bench"]) await call(model);
  }));
}

interface CliResult { wallMs: number; cpuMs: number; maxRssMb: number; code: number | null }

function runCli(args: string[], opts: { killWhen?: () => Promise<boolean>; signal?: NodeJS.Signals } = {}): Promise<CliResult> {
  const usage = path.join(work, `rusage-${Math.random().toString(36).slice(2)}.json`);
  const started = performance.now();
  const p = spawn(process.execPath, [projectPath("bin", "medeval"), ...args], { stdio: ["ignore", "ignore", "ignore"], env: { ...process.env, MEDEVAL_RUSAGE_FILE: usage } });
  let timer: NodeJS.Timeout | undefined;
  if (opts.killWhen) {
    let sent = false;
    timer = setInterval(() => void opts.killWhen!().then((yes) => {
      if (!yes || sent) return;
      sent = true;
      p.kill(opts.signal ?? "SIGKILL");
      clearInterval(timer); // one signal: a second SIGTERM would mean "quit now"
    }), 20);
  }
  return new Promise((resolve) => p.on("exit", (code) => {
    if (timer) clearInterval(timer);
    const wallMs = performance.now() - started;
    const u = existsSync(usage) ? (JSON.parse(readFileSync(usage, "utf8")) as { userMs: number; systemMs: number; maxRssKb: number }) : null;
    resolve({ wallMs, cpuMs: u ? u.userMs + u.systemMs : NaN, maxRssMb: u ? u.maxRssKb / 1024 : NaN, code });
  }));
}

function runArgs(url: string, file: string, db: string, concurrency: number, extra: string[] = []): string[] {
  return ["run", "--datasets", file, "--candidate", "openai:cand-bench", "--base-url", url, "--judge", "openai:judge-bench", "--judge-base-url", url,
    "--concurrency", String(concurrency), "--db", db, "--out", work, "--quiet", ...extra];
}

const dbBytes = (db: string) => ["", "-wal", "-shm"].reduce((a, s) => a + (existsSync(db + s) ? statSync(db + s).size : 0), 0);
const f1 = (x: number) => x.toFixed(1);
const rows: string[][] = [];

const baseline = await runCli(["--version"]);
console.log(`idle baseline (start-up of \`medeval --version\`): ${f1(baseline.cpuMs)} ms CPU, ${f1(baseline.maxRssMb)} MB RSS\n`);

const server = await startServer(LATENCY);
await warm(server);
for (const n of SIZES) {
  const file = writeCases(n);
  for (const c of CONCURRENCY) {
    const db = path.join(work, `run-${n}-${c}.sqlite`);
    const r = await runCli(runArgs(server.url, file, db, c));
    const limitMs = (n * 2 * LATENCY) / c;
    rows.push([String(n), String(c), f1(r.wallMs / 1000), f1(n / (r.wallMs / 1000)), `${f1((100 * limitMs) / r.wallMs)} %`,
      ((r.cpuMs - baseline.cpuMs) / n).toFixed(3), f1(r.maxRssMb), f1(dbBytes(db) / n), String(r.code)]);
    console.log(`${n} cases, concurrency ${c}: ${f1(r.wallMs / 1000)} s (limit ${f1(limitMs / 1000)} s)`);
  }
}
// What the openai SDK alone costs for the same calls: the harness cannot go below it.
async function sdkFloor(fetchKind: "builtin" | "node"): Promise<string> {
  const p = spawn(process.execPath, ["--import", "tsx", projectPath("scripts", "sdk-floor.ts"), server.url, String(SIZES[0]), String(CONCURRENCY[0]), fetchKind], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise<string>((resolve) => createInterface({ input: p.stdout! }).once("line", resolve));
}
console.log(`\nbare openai SDK, same calls (${SIZES[0]} cases, concurrency ${CONCURRENCY[0]}), CPU ms per case (2 calls): `
  + `${await sdkFloor("builtin")} with Node's built-in fetch, ${await sdkFloor("node")} with medeval's node:http fetch — the floor under "CPU ms/case"`);

console.log("\nlatency", LATENCY, "ms; each case = 1 candidate call + 1 judge call; physical limit = cases × 2 × latency ÷ concurrency");
console.log(["cases", "conc", "wall s", "cases/s", "of limit", "CPU ms/case", "peak RSS MB", "DB bytes/case", "exit"].join("\t"));
for (const r of rows) console.log(r.join("\t"));

// Cached re-run and resume after kill at 50 %, on the smallest size.
{
  const n = SIZES[0]!;
  const c = CONCURRENCY[0]!;
  const file = writeCases(n);
  const db = path.join(work, `run-${n}-${c}.sqlite`);
  const before = await server.stats();
  const cached = await runCli(runArgs(server.url, file, db, c));
  const after = await server.stats();
  console.log(`\ncached re-run of ${n} cases: ${f1(cached.wallMs / 1000)} s, ${after.requests - before.requests} model calls`);

  // Stopped at 50 % by SIGTERM (graceful: in-flight calls finish) and by kill -9 (in-flight calls are lost).
  for (const signal of ["SIGTERM", "SIGKILL"] as const) {
    const rdb = path.join(work, `resume-${n}-${signal}.sqlite`);
    const rfile = writeCases(n, signal === "SIGTERM" ? "续" : "断");
    const start = await server.stats();
    const half = start.requests + n; // n of the 2n calls
    const killed = await runCli(runArgs(server.url, rfile, rdb, c), { killWhen: async () => (await server.stats()).requests >= half, signal });
    const mid = await server.stats();
    const { default: Database } = await import("better-sqlite3");
    const d = new Database(rdb, { readonly: true });
    const runId = (d.prepare("SELECT id FROM runs").get() as { id: string }).id;
    d.close();
    const resumed = await runCli(runArgs(server.url, rfile, rdb, c, ["--resume", runId]));
    const end = await server.stats();
    console.log(`resume after ${signal === "SIGTERM" ? "SIGTERM" : "kill -9"} at ${mid.requests - start.requests} of ${2 * n} calls (exit ${killed.code ?? "killed"}): resumed in ${f1(resumed.wallMs / 1000)} s, `
      + `${end.requests - mid.requests} calls after resume, ${end.duplicates - start.duplicates} repeated calls${signal === "SIGKILL" ? ` (calls in flight at the kill: at most ${c}, candidate and judge sharing one endpoint)` : ""}`);
  }
}

// Report and aggregate over a big run at 0 ms latency.
if (BIG > 0) {
  await server.stop();
  const fast = await startServer(0);
  await warm(fast);
  const file = writeCases(BIG);
  const db = path.join(work, `big-${BIG}.sqlite`);
  const r = await runCli(runArgs(fast.url, file, db, 128));
  console.log(`\n${BIG} cases at 0 ms latency, concurrency 128: ${f1(r.wallMs / 1000)} s, ${((r.cpuMs - baseline.cpuMs) / BIG).toFixed(3)} ms CPU/case, peak RSS ${f1(r.maxRssMb)} MB, DB ${f1(dbBytes(db) / BIG)} bytes/case`);
  for (const [label, fmt] of [["aggregate + terminal summary", "terminal"], ["JSON report", "json"], ["HTML report", "html"]] as const) {
    const out = path.join(work, `big.${fmt}`);
    const t = await runCli(["report", "--db", db, "--format", fmt, "--out", out]);
    console.log(`${label}: ${f1(t.wallMs / 1000)} s wall (${f1((t.cpuMs) / 1000)} s CPU), peak RSS ${f1(t.maxRssMb)} MB${t.code ? ` — exit ${t.code}` : ""}`);
  }
  await fast.stop();
} else {
  await server.stop();
}
rmSync(work, { recursive: true, force: true });
