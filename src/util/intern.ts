/**
 * One string per distinct value. SQLite and JSON.parse hand back a new string every time; across 100,000 rows a
 * handful of task ids, formats and statuses would otherwise be kept as 100,000 copies each.
 */
export function interner(): <T extends string>(s: T) => T {
  const seen = new Map<string, string>();
  return <T extends string>(s: T): T => {
    const hit = seen.get(s);
    if (hit !== undefined) return hit as T;
    seen.set(s, s);
    return s;
  };
}
