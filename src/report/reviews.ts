// Review state as reports and the gate see it, read from the review feature's `reviews` and `signoffs` views
// (migration 004-review). A database without them (older schema) has every flag unreviewed. Columns are discovered,
// not assumed, so the reader copes with either. A case counts as reviewed once an expert decision exists for it;
// whether two reviewers agreed is the review feature's business (src/review).
import type { DB } from "../store/db.js";

export interface ReviewState {
  source: "none" | "reviews-table";
  /** Review rows per case id (all repeats), oldest first. */
  byCase: Map<string, Record<string, unknown>[]>;
  /** Keys `caseId` and `caseId\u0000repeat` of reviewed cases. */
  reviewed: Set<string>;
  signOff: { by: string; at: string } | null;
}

function columns(db: DB, table: string): Set<string> {
  const rows = db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[];
  return new Set(rows.map((r) => r.name));
}

export function readReviewState(db: DB, runId: string, setId?: number): ReviewState {
  const state: ReviewState = { source: "none", byCase: new Map(), reviewed: new Set(), signOff: null };
  const cols = columns(db, "reviews");
  if (cols.has("run_id") && cols.has("case_id")) {
    state.source = "reviews-table";
    const order = cols.has("id") ? "id" : "rowid";
    // Reviews of this judgment set only, where the table records which set was reviewed.
    const bySet = setId !== undefined && cols.has("set_id");
    const rows = db.prepare(`SELECT * FROM reviews WHERE run_id = ?${bySet ? " AND set_id = ?" : ""} ORDER BY ${order}`)
      .all(...(bySet ? [runId, setId] : [runId])) as Record<string, unknown>[];
    for (const r of rows) {
      const caseId = String(r.case_id);
      let arr = state.byCase.get(caseId);
      if (!arr) state.byCase.set(caseId, (arr = []));
      arr.push(r);
      state.reviewed.add(caseId);
      if (typeof r.repeat === "number") state.reviewed.add(`${caseId}\u0000${r.repeat}`);
    }
  }
  for (const table of ["signoffs", "sign_offs"]) {
    const sc = columns(db, table);
    if (!sc.has("run_id")) continue;
    const bySet = setId !== undefined && sc.has("set_id");
    const row = db.prepare(`SELECT * FROM ${table} WHERE run_id = ?${bySet ? " AND set_id = ?" : ""} ORDER BY ${sc.has("id") ? "id" : "rowid"} DESC LIMIT 1`)
      .get(...(bySet ? [runId, setId] : [runId])) as Record<string, unknown> | undefined;
    if (row) {
      const by = row.reviewer ?? row.by ?? row.signed_by ?? "";
      const at = row.created_at ?? row.at ?? row.signed_at ?? "";
      state.signOff = { by: String(by), at: String(at) };
    }
    break;
  }
  return state;
}

/** A case repeat counts as reviewed when the review rows say so for that repeat, or for the case when they carry no repeat. */
export function isReviewed(state: ReviewState, caseId: string, repeat: number): boolean {
  const rows = state.byCase.get(caseId);
  if (!rows?.length) return false;
  if (rows.some((r) => typeof r.repeat === "number")) return state.reviewed.has(`${caseId}\u0000${repeat}`);
  return true;
}
