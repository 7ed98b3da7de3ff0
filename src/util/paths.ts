import { fileURLToPath } from "node:url";
import { existsSync } from "node:fs";
import path from "node:path";

/** The repository root (where rubrics/ and datasets/ live), from src/ or the compiled dist/src/ alike. */
function findRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, "package.json")) || path.basename(dir) === "dist") {
    const up = path.dirname(dir);
    if (up === dir) throw new Error("medeval: cannot find the project root (package.json)");
    dir = up;
  }
  return dir;
}

export const PROJECT_ROOT = findRoot();

export function projectPath(...parts: string[]): string {
  return path.join(PROJECT_ROOT, ...parts);
}
