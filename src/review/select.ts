// Which queued items a reviewer is asked to do (session, export, `review queue --reviewer`).
import type { QueueItem } from "./queue.js";
import { statusOf, type ReviewOverview } from "./state.js";

export interface ItemFilter {
  reviewer?: string;
  adjudicate?: boolean;
  flag?: string;
  task?: string;
}

/**
 * Normal mode: queued items that are not final, that this reviewer has not decided, and that do not wait for an
 * adjudicator — the ones they skipped last. Adjudication: items whose two reviews disagree, for a third reviewer.
 */
export function itemsFor(o: ReviewOverview, f: ItemFilter): QueueItem[] {
  const picked = o.queue.filter((q) => {
    if (f.flag && !q.reasons.some((r) => r.kind === f.flag)) return false;
    if (f.task && q.task !== f.task.toUpperCase()) return false;
    const st = o.states.get(q.key);
    const status = statusOf(o, q.key);
    const decidedBy = new Set((st?.decisions ?? []).map((d) => d.reviewer));
    if (f.adjudicate) return status === "needs-adjudication" && (!f.reviewer || !decidedBy.has(f.reviewer));
    if (status === "final" || status === "needs-adjudication") return false;
    return !f.reviewer || !decidedBy.has(f.reviewer);
  });
  if (!f.reviewer) return picked;
  const skipped = (q: QueueItem) => Boolean(o.states.get(q.key)?.skippedBy.has(f.reviewer!));
  return [...picked.filter((q) => !skipped(q)), ...picked.filter(skipped)];
}
