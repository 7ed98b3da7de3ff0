import type { LoadedCase } from "./load.js";
import type { Taxonomy } from "../taxonomy/load.js";

export interface DatasetStats {
  cases: number;
  byDimension: Record<string, number>;
  byTask: Record<string, number>;
  byFormat: Record<string, number>;
  bySource: Record<string, number>;
  byDifficulty: Record<string, number>;
  bySpecialty: Record<string, number>;
  synthetic: number;
  tasksWithoutCases: string[];
}

function bump(m: Record<string, number>, k: string): void {
  m[k] = (m[k] ?? 0) + 1;
}

export function datasetStats(cases: LoadedCase[], tax: Taxonomy): DatasetStats {
  const s: DatasetStats = { cases: cases.length, byDimension: {}, byTask: {}, byFormat: {}, bySource: {}, byDifficulty: {}, bySpecialty: {}, synthetic: 0, tasksWithoutCases: [] };
  for (const d of tax.dimensions) s.byDimension[d.id] = 0;
  for (const t of tax.tasks) s.byTask[t.id] = 0;
  for (const { case: c, dimension } of cases) {
    bump(s.byDimension, dimension);
    bump(s.byTask, c.task);
    bump(s.byFormat, c.format);
    bump(s.bySource, c.provenance.source);
    bump(s.byDifficulty, c.provenance.difficulty);
    bump(s.bySpecialty, c.provenance.specialty);
    if (c.provenance.synthetic) s.synthetic++;
  }
  s.tasksWithoutCases = tax.tasks.filter((t) => !s.byTask[t.id]).map((t) => t.id);
  return s;
}
