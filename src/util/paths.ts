import { fileURLToPath } from "node:url";
import path from "node:path";

/** The repository root (where rubrics/ and datasets/ live), whatever the working directory. */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export function projectPath(...parts: string[]): string {
  return path.join(PROJECT_ROOT, ...parts);
}
