// Sign-off: the run's review is complete and locked. Refused while any queued item lacks a final review.
import { UserError } from "../util/errors.js";
import { appendAction } from "./actions.js";
import type { QueueItem } from "./queue.js";
import { overviewFinalScores, pendingItems, type ReviewOverview } from "./state.js";

export type SignOffResult = { ok: true; actionId: number } | { ok: false; pending: QueueItem[] };

export function signOff(o: ReviewOverview, reviewer: string, comment: string | undefined, source: string): SignOffResult {
  if (o.lock.locked) {
    throw new UserError(`run ${o.ctx.runId} is already signed off by ${o.lock.signoff!.by} at ${o.lock.signoff!.at}`, 1);
  }
  const pending = pendingItems(o);
  if (pending.length) return { ok: false, pending };
  const { review } = overviewFinalScores(o);
  const actionId = appendAction(o.ctx.db, {
    run_id: o.ctx.runId, set_id: o.ctx.setId, reviewer, action: "signoff", comment: comment ?? null, source,
    detail: { required: o.settings.required, queued: review.required, reviewed: review.reviewed, overridden: review.overridden, reviewConfigHash: o.settings.cfg.hash },
  });
  return { ok: true, actionId };
}
