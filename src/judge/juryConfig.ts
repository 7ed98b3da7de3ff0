// Turning --judge flags into a jury's adapter configs, and the same-family warning the run and rejudge commands print.
import chalk from "chalk";
import type { Adapter } from "../adapters/types.js";
import type { AdapterConfig } from "../config/schema.js";
import { resolveAdapter } from "../config/resolve.js";
import type { ScoringConfig } from "../scoring/config.js";
import { sameFamilyWarnings } from "./family.js";

/** `--judge a --judge b,c` → [a, b, c]: a jury may be given by repeating the flag or by commas. */
export function collectJudges(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(",").map((s) => s.trim()).filter(Boolean)];
}

/** One adapter config per judge spec (or the config file's judge when none is given); shared flags apply to all. */
export function resolveJudgeConfigs(
  specs: string[] | undefined, base: AdapterConfig | undefined, flags: { baseUrl?: string; apiKeyEnv?: string; timeoutMs?: number }, scoring: ScoringConfig,
): AdapterConfig[] {
  const list: (string | undefined)[] = specs?.length ? specs : [undefined];
  return list.map((spec) => resolveAdapter("judge", spec, base, flags, { temperature: scoring.judge.temperature, seed: scoring.judge.seed }));
}

/** Prints a warning on standard error for each judge of the candidate's own model or family. */
export function warnSameFamily(candidate: Adapter | string, judges: Adapter[]): void {
  for (const w of sameFamilyWarnings(candidate, judges)) process.stderr.write(chalk.yellow(`warning: ${w}\n`));
}

