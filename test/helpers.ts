import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { projectPath } from "../src/util/paths.js";

export function tempDir(prefix = "medeval-test-"): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

export function writeJsonl(dir: string, name: string, lines: (unknown | string)[]): string {
  const file = path.join(dir, name);
  writeFileSync(file, lines.map((l) => (typeof l === "string" ? l : JSON.stringify(l))).join("\n") + "\n");
  return file;
}

/** Runs the real CLI (bin/medeval) as a user would. */
export function cli(args: string[], env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [projectPath("bin", "medeval"), ...args], {
    encoding: "utf8",
    env: { ...process.env, FORCE_COLOR: "0", ...env },
    timeout: 60_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export const FIXTURE_CASES = projectPath("test", "fixtures", "cases");

/** A minimal valid case of each simple format, for tests to vary. */
export const validOpenCase = {
  id: "X-OPEN-1",
  task: "DA01",
  format: "open",
  input: { context: "女，25岁，发热咳嗽3天，右下肺湿啰音，胸片右下肺大片实变影。", question: "最可能的诊断？" },
  reference: { answer: "社区获得性肺炎", keyPoints: ["社区获得性肺炎"], rubric: [{ criterion: "诊断为肺炎", points: 5 }] },
  provenance: { source: "synthetic", difficulty: "common", specialty: "呼吸内科", language: "zh", synthetic: true },
};

/** The CLI without blocking this process: tests whose fake servers live in-process need it. */
export function cliAsync(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [projectPath("bin", "medeval"), ...args], { env: { ...process.env, FORCE_COLOR: "0", ...env } });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
