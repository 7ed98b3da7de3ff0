import type { RubricItem } from "../dataset/schema.js";

/** Rubric items get ids r1, r2… in order where the case gives none, so verdicts can refer to them. */
export function rubricWithIds(items: RubricItem[] | undefined): (RubricItem & { id: string })[] {
  return (items ?? []).map((r, i) => ({ ...r, id: r.id ?? `r${i + 1}` }));
}

/**
 * HealthBench-style signed points: (points of met items, negative ones subtracting) / total positive points,
 * clipped to [0, 1]. With no positive items the score starts at 1 and met negative items take their share away.
 */
export function rubricScore(items: { id: string; points: number }[], met: Map<string, boolean>): number | null {
  if (!items.length) return null;
  const positive = items.filter((i) => i.points > 0).reduce((a, i) => a + i.points, 0);
  const earned = items.filter((i) => met.get(i.id)).reduce((a, i) => a + i.points, 0);
  if (positive > 0) return Math.min(1, Math.max(0, earned / positive));
  const negative = items.reduce((a, i) => a + Math.abs(i.points), 0);
  return Math.min(1, Math.max(0, 1 + earned / negative));
}
