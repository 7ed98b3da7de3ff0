// Chooses which cases a run covers: profile, then --tasks / --dimension / --specialty filters.
import type { LoadedCase } from "../dataset/load.js";
import type { Taxonomy } from "../taxonomy/load.js";
import { resolveProfile } from "../taxonomy/load.js";
import { UserError } from "../util/errors.js";

export interface PlanFilters {
  profile: string;
  tasks?: string[];
  dimensions?: string[];
  specialty?: string;
}

export function planCases(cases: LoadedCase[], tax: Taxonomy, f: PlanFilters): LoadedCase[] {
  const sel = resolveProfile(tax, f.profile);
  const taskSet = new Set(sel.taskIds);
  for (const t of f.tasks ?? []) {
    if (!tax.task(t)) throw new UserError(`--tasks: unknown task id "${t}" (see \`medeval tasks\`)`);
  }
  for (const d of f.dimensions ?? []) {
    if (!tax.dimension(d)) throw new UserError(`--dimension: unknown dimension "${d}" (expected one of ${tax.dimensions.map((x) => x.id).join(", ")})`);
  }
  return cases.filter(({ case: c, dimension }) => {
    const inProfile = taskSet.has(c.task) || sel.specialties.includes(c.provenance.specialty);
    if (!inProfile) return false;
    if (f.tasks?.length && !f.tasks.includes(c.task)) return false;
    if (f.dimensions?.length && !f.dimensions.includes(dimension)) return false;
    if (f.specialty && c.provenance.specialty !== f.specialty) return false;
    return true;
  });
}
