// A local command per case: the case as JSON on stdin, {answer, reasoning?} JSON on stdout. For products that run
// on-site (a hospital's own pipeline, a script around a local model). No shell unless the config asks for one.
import { spawn } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import type { Adapter, AdapterReply, AdapterRequest } from "./types.js";
import type { ExecAdapterConfig } from "../config/schema.js";
import { caseFields } from "./caseFields.js";
import { splitReasoning } from "./reasoning.js";
import { UserError } from "../util/errors.js";
import { sha256 } from "../util/hash.js";
import { zodIssueLines } from "../util/zod.js";
import { permanentError } from "./errors.js";

/** What the command must print: one JSON object (the last line of stdout, when it prints logs first). */
export const execReplySchema = z.object({
  answer: z.union([z.string(), z.record(z.string(), z.unknown())]),
  reasoning: z.string().nullable().optional(),
  model: z.string().optional(),
  usage: z.strictObject({ promptTokens: z.number().int().min(0), completionTokens: z.number().int().min(0) }).optional(),
});

const MAX_OUTPUT = 16 * 1024 * 1024;
const STDERR_TAIL = 600;

/** Splits `node "my script.js" --fast` into words: quotes group, backslash escapes; no expansion of any kind. */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let cur = "";
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote) {
      if (ch === quote) quote = null;
      else if (ch === "\\" && quote === '"' && i + 1 < line.length && /["\\]/.test(line[i + 1]!)) cur += line[++i];
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === "\\" && i + 1 < line.length) {
      cur += line[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = "";
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (quote) throw new UserError(`exec command line ${JSON.stringify(line)}: unterminated ${quote} quote`);
  if (inWord) words.push(cur);
  return words;
}

function resolveEnv(env: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env ?? {})) {
    out[k] = v.replace(/\$\{ENV:([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
      const val = process.env[name];
      if (val === undefined) throw new UserError(`exec adapter: env.${k} refers to environment variable ${name}, which is not set`);
      return val;
    });
  }
  return out;
}

/** Finds a bare command on PATH, or a path relative to cwd; null when there is no such file. */
function locate(command: string, cwd: string): string | null {
  if (command.includes("/")) {
    const p = path.resolve(cwd, command);
    return existsSync(p) ? p : null;
  }
  for (const dir of (process.env.PATH ?? "").split(path.delimiter).filter(Boolean)) {
    const p = path.join(dir, command);
    if (existsSync(p)) return p;
  }
  return null;
}

/** A fingerprint of the script files named on the command line, so editing the script changes the cache key. */
function fileFingerprints(words: string[], cwd: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const w of words) {
    if (w.startsWith("-")) continue;
    const p = path.resolve(cwd, w);
    try {
      const st = statSync(p);
      if (!st.isFile()) continue;
      out[w] = st.size <= 8 * 1024 * 1024 ? sha256(readFileSync(p)) : `size ${st.size} mtime ${st.mtimeMs}`;
    } catch {
      // not a file: an ordinary argument
    }
  }
  return out;
}

function tail(text: string, n = STDERR_TAIL): string {
  const t = text.trim();
  return t.length > n ? `…${t.slice(-n)}` : t;
}

export class ExecAdapter implements Adapter {
  readonly kind = "exec";
  readonly name: string;
  private readonly cwd: string;
  private readonly fingerprints: Record<string, string>;

  constructor(private readonly cfg: ExecAdapterConfig) {
    this.cwd = path.resolve(cfg.cwd ?? ".");
    this.name = cfg.name ?? `exec:${path.basename(cfg.shell ? (splitCommandLine(cfg.command)[0] ?? cfg.command) : cfg.command)}`;
    if (!existsSync(this.cwd)) throw new UserError(`exec adapter: cwd ${this.cwd} does not exist`);
    if (!cfg.shell && !locate(cfg.command, this.cwd)) {
      throw new UserError(`exec adapter: command "${cfg.command}" not found (${cfg.command.includes("/") ? `no such file from ${this.cwd}` : "not on PATH"}); give a path, or set "shell": true for a shell command line`);
    }
    resolveEnv(cfg.env);
    const words = cfg.shell ? splitCommandLine(cfg.command) : [cfg.command, ...cfg.args];
    this.fingerprints = fileFingerprints(words, this.cwd);
  }

  describe(): Record<string, unknown> {
    const { kind, command, args, shell, env } = this.cfg;
    // Environment variable names only: their values may be credentials.
    return { kind, name: this.name, command, args, shell, cwd: this.cfg.cwd ?? null, envNames: Object.keys(env ?? {}), files: this.fingerprints };
  }

  private commandText(): string {
    return this.cfg.shell ? this.cfg.command : [this.cfg.command, ...this.cfg.args].map((w) => (/[\s"']/.test(w) ? JSON.stringify(w) : w)).join(" ");
  }

  async complete(req: AdapterRequest): Promise<AdapterReply> {
    const f = caseFields(req);
    const payload = JSON.stringify({ id: f.case_id, task: f.task, format: f.format, variant: f.variant, language: f.language, messages: req.messages, input: f.input }) + "\n";
    const what = `exec \`${this.commandText()}\` (case ${f.case_id}${f.variant ? ` variant ${f.variant}` : ""})`;
    const started = performance.now();
    const out = await this.run(payload, what, req.signal);
    const latencyMs = Math.round(performance.now() - started);
    const reply = parseReply(out.stdout, what, out.stderr);
    const answer = typeof reply.answer === "string" ? reply.answer : JSON.stringify(reply.answer);
    const split = splitReasoning(answer, reply.reasoning ?? null);
    return { answer: split.answer, reasoning: split.reasoning, usage: reply.usage ?? null, latencyMs, model: reply.model ?? this.name, raw: reply };
  }

  private run(stdin: string, what: string, signal?: AbortSignal): Promise<{ stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const env = { ...process.env, ...resolveEnv(this.cfg.env) };
      // detached: the child leads its own process group, so a timeout kills whatever it started too.
      const child = this.cfg.shell
        ? spawn(this.cfg.command, { shell: true, cwd: this.cwd, env, detached: true, stdio: ["pipe", "pipe", "pipe"] })
        : spawn(this.cfg.command, this.cfg.args, { cwd: this.cwd, env, detached: true, stdio: ["pipe", "pipe", "pipe"] });
      const stdout: Buffer[] = [];
      let stdoutBytes = 0;
      let stderr = "";
      let failure: string | null = null;
      let settled = false;
      const killGroup = () => {
        try {
          if (child.pid) process.kill(-child.pid, "SIGKILL");
        } catch {
          child.kill("SIGKILL");
        }
      };
      const timer = setTimeout(() => {
        failure = `did not finish within its time limit of ${this.cfg.timeoutMs / 1000} s; its process group was killed`;
        killGroup();
      }, this.cfg.timeoutMs);
      const onAbort = () => {
        failure = "stopped: the run was cancelled";
        killGroup();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      const finish = (err: Error | null, value?: { stdout: string; stderr: string }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        if (err) reject(err);
        else resolve(value!);
      };
      child.stdout.on("data", (d: Buffer) => {
        stdoutBytes += d.length;
        if (stdoutBytes > MAX_OUTPUT) {
          failure ??= `printed more than ${MAX_OUTPUT / 1024 / 1024} MB on stdout; killed`;
          killGroup();
          return;
        }
        stdout.push(d);
      });
      child.stderr.on("data", (d: Buffer) => {
        stderr = (stderr + d.toString("utf8")).slice(-8 * STDERR_TAIL);
      });
      // A command that exits without reading its stdin makes our write fail with EPIPE: its exit status tells.
      child.stdin.on("error", () => undefined);
      child.on("error", (err) => finish(permanentError(`${what}: cannot start: ${err.message}`)));
      child.on("close", (code, sig) => {
        const errTail = tail(stderr);
        const withStderr = (msg: string) => `${what}: ${msg}${errTail ? `; stderr: ${errTail}` : "; no stderr"}`;
        if (failure) return finish(permanentError(withStderr(failure)));
        if (sig) return finish(permanentError(withStderr(`was killed by ${sig}`)));
        if (code !== 0) return finish(permanentError(withStderr(`exited with code ${code}`)));
        finish(null, { stdout: Buffer.concat(stdout).toString("utf8"), stderr });
      });
      child.stdin.end(stdin);
    });
  }
}

/** The whole stdout as JSON, or else its last non-empty line (for commands that log before answering). */
export function parseReply(stdout: string, what: string, stderr = ""): z.infer<typeof execReplySchema> {
  const text = stdout.trim();
  const errTail = tail(stderr);
  const suffix = errTail ? `; stderr: ${errTail}` : "";
  if (!text) throw permanentError(`${what}: printed nothing on stdout (expected one JSON object {"answer": …})${suffix}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    const last = text.split(/\r?\n/).filter((l) => l.trim()).pop() ?? "";
    try {
      value = JSON.parse(last);
    } catch {
      throw permanentError(`${what}: stdout is not JSON (expected one JSON object {"answer": …}; got ${JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text)})${suffix}`);
    }
  }
  const parsed = execReplySchema.safeParse(value);
  if (!parsed.success) throw permanentError(`${what}: stdout JSON does not match {"answer": string, "reasoning"?: string}: ${zodIssueLines(parsed.error).join("; ")}${suffix}`);
  return parsed.data;
}
