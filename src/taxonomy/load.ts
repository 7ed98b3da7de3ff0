// The taxonomy is data (rubrics/taxonomy.json); this module validates it and answers questions about it.
import { projectPath } from "../util/paths.js";
import { sha256 } from "../util/hash.js";
import { UserError } from "../util/errors.js";
import { taxonomyFileSchema, type Dimension, type DimensionId, type Profile, type Task } from "./schema.js";
import { loadJsonFile } from "../util/jsonFile.js";

export interface Taxonomy {
  version: string;
  /** sha256 of the taxonomy file's bytes: stored with every run. */
  hash: string;
  dimensions: Dimension[];
  tasks: Task[];
  profiles: Profile[];
  alwaysInclude: DimensionId[];
  task(id: string): Task | undefined;
  dimension(id: string): Dimension | undefined;
}

export interface ProfileSelection {
  profile: Profile;
  taskIds: string[];
  specialties: string[];
}

export const DEFAULT_TAXONOMY_PATH = projectPath("rubrics", "taxonomy.json");

export function loadTaxonomy(file = DEFAULT_TAXONOMY_PATH): Taxonomy {
  const { data, text } = loadJsonFile(file, taxonomyFileSchema, "taxonomy");

  const problems: string[] = [];
  const taskById = new Map<string, Task>();
  for (const t of data.tasks) {
    if (taskById.has(t.id)) problems.push(`tasks: duplicate task id ${t.id}`);
    if (!t.id.startsWith(t.dimension)) problems.push(`tasks.${t.id}: id does not start with its dimension ${t.dimension}`);
    taskById.set(t.id, t);
  }
  const dimById = new Map(data.dimensions.map((d) => [d.id as string, d]));
  for (const p of data.profiles) {
    if (p.tasks === "all") continue;
    for (const id of p.tasks) {
      if (!taskById.has(id)) problems.push(`profiles.${p.id}.tasks: unknown task id "${id}" (expected one of the ${taskById.size} task ids, e.g. DA01)`);
    }
  }
  if (problems.length) throw new UserError(`${file}: invalid taxonomy\n${problems.join("\n")}`);

  return {
    version: data.version,
    hash: sha256(text),
    dimensions: data.dimensions,
    tasks: data.tasks,
    profiles: data.profiles,
    alwaysInclude: data.alwaysInclude,
    task: (id) => taskById.get(id),
    dimension: (id) => dimById.get(id),
  };
}

/** The tasks a profile covers: its own list plus every task of the always-included dimensions (CE). */
export function resolveProfile(tax: Taxonomy, profileId: string): ProfileSelection {
  const profile = tax.profiles.find((p) => p.id === profileId);
  if (!profile) {
    throw new UserError(`unknown profile "${profileId}" (expected one of: ${tax.profiles.map((p) => p.id).join(", ")})`);
  }
  const ids = new Set<string>();
  for (const t of tax.tasks) if (tax.alwaysInclude.includes(t.dimension)) ids.add(t.id);
  for (const id of profile.tasks === "all" ? tax.tasks.map((t) => t.id) : profile.tasks) ids.add(id);
  const order = new Map(tax.tasks.map((t, i) => [t.id, i]));
  return {
    profile,
    taskIds: [...ids].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0)),
    specialties: profile.specialties ?? [],
  };
}
