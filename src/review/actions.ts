// The audit log: review actions are only ever appended (the table's triggers refuse UPDATE and DELETE).
import type { DB } from "../store/db.js";
import { nowIso } from "../store/db.js";
import { UserError } from "../util/errors.js";
import { hasTable } from "./context.js";

export type Safety = "ok" | "minor" | "critical";
export type ActionKind = "accept" | "override" | "skip" | "adjudicate" | "signoff" | "reopen";
export interface ActionRow {
  id: number;
  run_id: string;
  set_id: number;
  case_id: string | null;
  repeat: number | null;
  reviewer: string;
  action: ActionKind;
  result: number | null;
  reasoning: number | null;
  approach: number | null;
  safety: Safety | null;
  rubric_json: string | null;
  score: number | null;
  comment: string | null;
  seen_set_id: number | null;
  source: string;
  detail_json: string;
  created_at: string;
}

export type NewAction = Omit<ActionRow, "id" | "created_at" | "detail_json" | "rubric_json" | "comment" | "seen_set_id" | "result" | "reasoning" | "approach" | "safety" | "score" | "case_id" | "repeat"> &
  Partial<Pick<ActionRow, "case_id" | "repeat" | "result" | "reasoning" | "approach" | "safety" | "score" | "comment" | "seen_set_id">> & {
    rubric?: Record<string, boolean> | null;
    detail?: Record<string, unknown>;
  };

/** Appends one action in its own transaction (written at once: quitting a session loses nothing saved). */
export function appendAction(db: DB, a: NewAction): number {
  const res = db.prepare(
    `INSERT INTO review_actions (run_id, set_id, case_id, repeat, reviewer, action, result, reasoning, approach, safety, rubric_json, score, comment, seen_set_id, source, detail_json, created_at)
     VALUES (@run_id, @set_id, @case_id, @repeat, @reviewer, @action, @result, @reasoning, @approach, @safety, @rubric_json, @score, @comment, @seen_set_id, @source, @detail_json, @created_at)`,
  ).run({
    run_id: a.run_id, set_id: a.set_id, case_id: a.case_id ?? null, repeat: a.repeat ?? null, reviewer: a.reviewer.trim(), action: a.action,
    result: a.result ?? null, reasoning: a.reasoning ?? null, approach: a.approach ?? null, safety: a.safety ?? null,
    rubric_json: a.rubric ? JSON.stringify(a.rubric) : null, score: a.score ?? null, comment: a.comment?.trim() ? a.comment.trim() : null,
    seen_set_id: a.seen_set_id ?? a.set_id, source: a.source, detail_json: JSON.stringify(a.detail ?? {}), created_at: nowIso(),
  });
  return Number(res.lastInsertRowid);
}

/** Every action of a run, oldest first; none when the database predates the review tables. */
export function listActions(db: DB, runId: string): ActionRow[] {
  if (!hasTable(db, "review_actions")) return [];
  return db.prepare("SELECT * FROM review_actions WHERE run_id = ? ORDER BY id").all(runId) as ActionRow[];
}

export interface LockState {
  locked: boolean;
  /** The sign-off in force, if any. */
  signoff: { by: string; at: string; setId: number } | null;
  /** The last reopen after a sign-off. */
  reopened: { by: string; at: string; reason: string } | null;
}

export function lockState(actions: ActionRow[]): LockState {
  let state: LockState = { locked: false, signoff: null, reopened: null };
  for (const a of actions) {
    if (a.action === "signoff") state = { locked: true, signoff: { by: a.reviewer, at: a.created_at, setId: a.set_id }, reopened: null };
    else if (a.action === "reopen") state = { locked: false, signoff: null, reopened: { by: a.reviewer, at: a.created_at, reason: a.comment ?? "" } };
  }
  return state;
}

/**
 * Guards every review write. A signed-off run refuses changes (exit 1) unless `reopen` gives a reason, which is
 * itself recorded as an action before the change.
 */
export function ensureUnlocked(db: DB, runId: string, setId: number, reviewer: string, reopen: string | undefined, source: string): void {
  const lock = lockState(listActions(db, runId));
  if (reopen !== undefined && !reopen.trim()) throw new UserError("--reopen: give the reason for reopening the run, e.g. --reopen \"case T-1 re-examined\"");
  if (!lock.locked) {
    if (reopen !== undefined) throw new UserError(`--reopen: run ${runId} is not signed off, so there is nothing to reopen`);
    return;
  }
  if (reopen === undefined) {
    throw new UserError(`run ${runId} was signed off by ${lock.signoff!.by} at ${lock.signoff!.at} and is locked; to change it, pass --reopen "reason" (the reopening is recorded)`, 1);
  }
  appendAction(db, { run_id: runId, set_id: setId, reviewer, action: "reopen", comment: reopen.trim(), source, detail: { signoffBy: lock.signoff!.by, signoffAt: lock.signoff!.at } });
}
