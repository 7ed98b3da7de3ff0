// The importers by --from name, and the one entry point the CLI and tests call.
import type { Taxonomy } from "../../taxonomy/load.js";
import { UserError } from "../../util/errors.js";
import { importHealthBench } from "./healthbench.js";
import { importCmbClin } from "./cmbClin.js";
import { importMcq, MCQ_FIELDS } from "./mcq.js";
import { importPubMedQA } from "./pubmedqa.js";
import { importCsv, CSV_FIELDS } from "./csv.js";
import { parseMapArgs, type CsvCaseFormat, type ImportOptions, type ImportResult } from "./shared.js";

interface Importer {
  run: (opts: ImportOptions) => ImportResult;
  /** Fields --map may name; none means the format has fixed, published field names. */
  mapFields: readonly string[];
}

export const IMPORTERS: Record<string, Importer> = {
  healthbench: { run: importHealthBench, mapFields: [] },
  "cmb-clin": { run: importCmbClin, mapFields: [] },
  mcq: { run: importMcq, mapFields: MCQ_FIELDS },
  pubmedqa: { run: importPubMedQA, mapFields: [] },
  csv: { run: importCsv, mapFields: CSV_FIELDS },
};

export const IMPORT_FORMATS = Object.keys(IMPORTERS);

export interface ImportRequest {
  from: string;
  file: string;
  tax: Taxonomy;
  task?: string;
  map?: string[];
  dataset?: string;
  format?: string;
}

/** Checks the arguments (bad ones are exit 2) and runs the importer. */
export function runImport(req: ImportRequest): ImportResult {
  const imp = IMPORTERS[req.from];
  if (!imp) throw new UserError(`--from ${req.from}: expected one of ${IMPORT_FORMATS.join(", ")}`);
  const task = req.task?.trim().toUpperCase();
  if (task !== undefined && !req.tax.task(task)) throw new UserError(`--task ${req.task}: unknown task id (expected one of the ${req.tax.tasks.length} ids listed by \`medeval tasks\`)`);
  if (req.map?.length && !imp.mapFields.length) throw new UserError(`--map: --from ${req.from} reads the published field names; --map is for mcq and csv`);
  if (req.format !== undefined && req.from !== "csv") throw new UserError("--format is for --from csv (the other formats fix their case format)");
  if (req.format !== undefined && !["choice", "open", "numeric"].includes(req.format)) throw new UserError(`--format ${req.format}: expected choice, open or numeric`);
  const map = parseMapArgs(req.map ?? [], imp.mapFields, req.from);
  const res = imp.run({ file: req.file, tax: req.tax, task, map, dataset: req.dataset, format: req.format as CsvCaseFormat | undefined });
  const byPlace = (a: { line?: number }, b: { line?: number }) => (a.line ?? 0) - (b.line ?? 0);
  res.skipped.sort(byPlace);
  res.notes.sort(byPlace);
  return res;
}

export { formatProblem, type ImportProblem, type ImportResult } from "./shared.js";
