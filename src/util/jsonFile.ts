// Reading a JSON settings file (taxonomy, scoring weights, review rules, gate policy, run config) the same way
// everywhere: unreadable, not JSON, or not the schema → a UserError naming the file and every bad field.
import { readFileSync } from "node:fs";
import type { z } from "zod";
import { UserError } from "./errors.js";
import { zodIssueLines } from "./zod.js";

export function loadJsonFile<S extends z.ZodType>(file: string, schema: S, what: string): { data: z.infer<S>; text: string } {
  let text: string;
  try {
    text = readFileSync(file, "utf8").replace(/^\uFEFF/, "");
  } catch (err) {
    throw new UserError(`${file}: cannot read the ${what} (${(err as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new UserError(`${file}: the ${what} is not valid JSON (${(err as Error).message})`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new UserError(`${file}: invalid ${what}\n${zodIssueLines(parsed.error).map((l) => `  ${l}`).join("\n")}`);
  return { data: parsed.data, text };
}
