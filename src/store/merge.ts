// Merges the shard databases of one evaluation into a new database whose single run reports like an unsharded one.
import { existsSync } from "node:fs";
import { openDatabase, type DB } from "./db.js";
import { RunStore, type CaseRow, type RunRow, type ResponseRow, type JudgmentRow } from "./runStore.js";
import { planHash } from "../runner/evaluate.js";
import type { PlanFilters } from "../runner/plan.js";
import { UserError } from "../util/errors.js";

export interface MergeResult {
  runId: string;
  shards: { file: string; runId: string; shard: string; cases: number }[];
  cases: number;
  responses: number;
  judgments: number;
}

interface ShardInput {
  file: string;
  db: DB;
  store: RunStore;
  run: RunRow;
  config: { filters: PlanFilters; repeats: number; candidate: unknown; judge: unknown; judges?: unknown };
}

function openShard(file: string): ShardInput {
  if (!existsSync(file)) throw new UserError(`${file}: no such database`);
  const db = openDatabase(file, { readonly: true });
  const store = new RunStore(db);
  const runs = store.listRuns();
  if (runs.length !== 1) {
    db.close();
    throw new UserError(`${file}: a shard database must hold exactly one run (it has ${runs.length})`);
  }
  const run = runs[0]!;
  return { file, db, store, run, config: JSON.parse(run.config_json) as ShardInput["config"] };
}

/** Checks that the shards are parts of one evaluation: same taxonomy, datasets, scoring and plan; disjoint cases. */
function checkShards(shards: ShardInput[]): void {
  const first = shards[0]!;
  const plan = planHash(first.config);
  const seen = new Map<string, string>();
  for (const s of shards) {
    const where = `${s.file} (run ${s.run.id})`;
    if (s.run.taxonomy_hash !== first.run.taxonomy_hash) throw new UserError(`${where}: taxonomy differs from ${first.file}'s`);
    if (s.run.datasets_json !== first.run.datasets_json) throw new UserError(`${where}: datasets differ from ${first.file}'s (file hashes in runs.datasets_json)`);
    if (s.run.scoring_hash !== first.run.scoring_hash) throw new UserError(`${where}: scoring config differs from ${first.file}'s`);
    if (planHash(s.config) !== plan) throw new UserError(`${where}: candidate, judge, filters or repeats differ from ${first.file}'s`);
    if (s.run.status !== "completed") throw new UserError(`${where}: the run is ${s.run.status}; resume it to completion before merging`);
    const shard = s.config.filters.shard;
    if (shards.length > 1 && !shard) throw new UserError(`${where}: not a shard (run without --shard)`);
    for (const c of s.db.prepare("SELECT case_id FROM run_cases WHERE run_id = ?").iterate(s.run.id) as Iterable<{ case_id: string }>) {
      const other = seen.get(c.case_id);
      if (other) throw new UserError(`${where}: case ${c.case_id} is also in ${other}: shards overlap`);
      seen.set(c.case_id, s.file);
    }
  }
  const counts = new Set(shards.map((s) => s.config.filters.shard?.count));
  if (counts.size > 1) throw new UserError(`the shards were split into different counts (${[...counts].join(", ")})`);
}

export function mergeShards(outFile: string, files: string[], rescore: (store: RunStore, runId: string, setId: number, repeats: number) => void): MergeResult {
  if (!files.length) throw new UserError("merge: name at least one shard database");
  if (existsSync(outFile)) throw new UserError(`${outFile}: already exists; merge writes a new database`);
  const shards = files.map(openShard);
  try {
    checkShards(shards);
    const first = shards[0]!;
    const { shard: _s, ...filters } = first.config.filters;
    const config = { ...first.config, filters, mergedFrom: shards.map((s) => ({ file: s.file, runId: s.run.id, shard: s.config.filters.shard ?? null })) };
    const out = openDatabase(outFile);
    try {
      const store = new RunStore(out);
      const runId = `${first.run.id}-merged`;
      const result: MergeResult = { runId, shards: [], cases: 0, responses: 0, judgments: 0 };
      const copy = out.transaction(() => {
        store.createRun({
          id: runId, profile: first.run.profile, config_json: JSON.stringify(config), config_hash: planHash(first.config), tool_version: first.run.tool_version,
          taxonomy_version: first.run.taxonomy_version, taxonomy_hash: first.run.taxonomy_hash, datasets_json: first.run.datasets_json, scoring_hash: first.run.scoring_hash,
        });
        const setIds = new Map<string, number>();
        for (const s of shards) {
          // Rows are streamed from each shard's own connection (a cursor there does not block writing here): a shard
          // of tens of thousands of cases is never held in memory, only the response id map.
          const insCase = out.prepare("INSERT INTO run_cases (run_id, case_id, task, dimension, format, specialty, difficulty, content_hash, case_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
          let cases = 0;
          for (const c of s.db.prepare("SELECT * FROM run_cases WHERE run_id = ? ORDER BY case_id").iterate(s.run.id) as Iterable<CaseRow>) {
            insCase.run(runId, c.case_id, c.task, c.dimension, c.format, c.specialty, c.difficulty, c.content_hash, c.case_json);
            cases++;
          }
          const responseIds = new Map<number, number>();
          for (const r of s.db.prepare("SELECT * FROM responses WHERE run_id = ? ORDER BY case_id, variant, repeat").iterate(s.run.id) as Iterable<ResponseRow>) {
            const { id, created_at: _c, ...rest } = r;
            responseIds.set(id, store.saveResponse({ ...rest, run_id: runId }));
            result.responses++;
          }
          for (const set of s.store.listJudgmentSets(s.run.id)) {
            let setId = setIds.get(set.label);
            if (setId === undefined) setIds.set(set.label, (setId = store.ensureJudgmentSet(runId, set.label, set.judges_json, set.prompt_version, set.prompt_hash)));
            for (const j of s.db.prepare("SELECT * FROM judgments WHERE set_id = ? ORDER BY response_id, judge").iterate(set.id) as Iterable<JudgmentRow>) {
              const { id: _id, created_at: _c, ...rest } = j;
              store.saveJudgment({ ...rest, set_id: setId, response_id: responseIds.get(j.response_id)! });
              result.judgments++;
            }
          }
          result.shards.push({ file: s.file, runId: s.run.id, shard: s.config.filters.shard ? `${s.config.filters.shard.index}/${s.config.filters.shard.count}` : "—", cases });
          result.cases += cases;
        }
        for (const setId of setIds.values()) rescore(store, runId, setId, first.config.repeats ?? 1);
        store.setRunStatus(runId, "completed");
      });
      copy();
      return result;
    } finally {
      out.close();
    }
  } finally {
    for (const s of shards) s.db.close();
  }
}
