// Builds adapter configs from a config file and command-line flags (flags win), validated by zod.
import { adapterConfigSchema, configFileSchema, type AdapterConfig, type ConfigFile } from "./schema.js";
import { UserError } from "../util/errors.js";
import { zodIssueLines } from "../util/zod.js";
import { splitCommandLine } from "../adapters/exec.js";
import { loadJsonFile } from "../util/jsonFile.js";

export function loadConfigFile(file: string): ConfigFile {
  return loadJsonFile(file, configFileSchema, "config").data;
}

export interface AdapterFlags {
  baseUrl?: string;
  apiKeyEnv?: string;
  temperature?: number;
  maxTokens?: number;
  systemPrompt?: string;
  seed?: number;
  timeoutMs?: number;
}

/**
 * "openai:qwen-max" → an openai adapter for model qwen-max; "mock" or "mock:first-option" → the offline mock;
 * 'exec:node answer.js --fast' → a local command; "replay:answers.jsonl" → a submitted answers file; "http" → the
 * config file's http block (its URL, templates and mapping do not fit a flag).
 * Flags override fields of the spec or of the config file's adapter block.
 */
export function resolveAdapter(role: "candidate" | "judge" | "patient", spec: string | undefined, base: AdapterConfig | undefined, flags: AdapterFlags, defaults: Partial<Record<string, unknown>> = {}): AdapterConfig {
  let raw: Record<string, unknown>;
  if (spec) {
    const [kind, ...rest] = spec.split(":");
    const arg = rest.join(":");
    if (kind === "openai") {
      if (!arg) throw new UserError(`--${role} openai:MODEL needs a model name, e.g. --${role} openai:qwen-max`);
      raw = { kind, model: arg };
    } else if (kind === "mock") {
      raw = { kind, ...(arg ? { strategy: arg } : {}) };
    } else if (kind === "exec") {
      const words = splitCommandLine(arg);
      if (!words.length) throw new UserError(`--${role} exec:"COMMAND ARGS" needs a command, e.g. --${role} 'exec:node answer.js'`);
      raw = { kind, command: words[0], args: words.slice(1) };
    } else if (kind === "replay") {
      if (!arg) throw new UserError(`--${role} replay:FILE needs the answers file, e.g. --${role} replay:answers.jsonl`);
      raw = { kind, file: arg };
    } else if (kind === "http") {
      // URL, templates and mapping do not fit a flag: the block lives in the config file.
      if (base?.kind !== "http") throw new UserError(`--${role} http: the http adapter is configured in the config file ("${role}": {"kind": "http", "url": …, "body": …, "response": {"answer": …}}), then pass --config FILE`);
      raw = {};
    } else {
      throw new UserError(`--${role} "${spec}": unknown adapter kind "${kind}" (expected openai:MODEL, mock[:reference|first-option], exec:"COMMAND ARGS", replay:FILE, or http with a config file)`);
    }
    if (base && (base.kind === raw.kind || kind === "http")) raw = { ...base, ...raw };
  } else if (base) {
    raw = { ...base };
  } else {
    throw new UserError(`no ${role} given: pass --${role} openai:MODEL (or mock), or set "${role}" in the config file`);
  }
  if (raw.kind === "openai") {
    raw = { ...defaults, ...raw };
    if (flags.baseUrl !== undefined) raw.baseURL = flags.baseUrl;
    if (flags.apiKeyEnv !== undefined) raw.apiKeyEnv = flags.apiKeyEnv;
    if (flags.temperature !== undefined) raw.temperature = flags.temperature;
    if (flags.maxTokens !== undefined) raw.maxTokens = flags.maxTokens;
    if (flags.systemPrompt !== undefined) raw.systemPrompt = flags.systemPrompt;
    if (flags.seed !== undefined) raw.seed = flags.seed;
    if (flags.timeoutMs !== undefined) raw.timeoutMs = flags.timeoutMs;
  }
  if ((raw.kind === "http" || raw.kind === "exec") && flags.timeoutMs !== undefined) raw.timeoutMs = flags.timeoutMs;
  const parsed = adapterConfigSchema.safeParse(raw);
  if (!parsed.success) throw new UserError(`invalid ${role} configuration:\n${zodIssueLines(parsed.error).map((l) => `  ${role}.${l}`).join("\n")}`);
  return parsed.data;
}
