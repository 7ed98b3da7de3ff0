// Finds the option letter(s) a free-text answer settles on, in Chinese or English.
import { toHalfWidth } from "./normalize.js";

const LETTERS = "A-J";
const KEYS = `[${LETTERS}](?:\\s*[、,，/和及与&]?\\s*[${LETTERS}])*`;

// Most explicit first; within a pattern the LAST match wins (models often restate the answer at the end).
const PATTERNS: RegExp[] = [
  new RegExp(`(?:最终答案|正确答案|答案|answer(?: is)?|final answer)\\s*(?:是|为|应为|应该是)?\\s*[:：]?\\s*[（(]?\\s*(${KEYS})(?![A-Za-z])`, "gi"),
  new RegExp(`(?:选择|应选|选项|选)\\s*[:：]?\\s*[（(]?\\s*(${KEYS})(?![A-Za-z])`, "gi"),
  new RegExp(`(?:^|[^A-Za-z])[（(](${KEYS})[)）]`, "g"),
  new RegExp(`^\\s*(${KEYS})\\s*(?:[.、:：)）]|$)`, "gm"),
];

function keysOf(match: string): string[] {
  return [...new Set(match.toUpperCase().match(/[A-J]/g) ?? [])].sort();
}

/** The chosen keys (sorted, unique) restricted to the valid ones, or null when no choice can be found. */
export function extractChoice(answer: string, validKeys: string[]): string[] | null {
  const text = toHalfWidth(answer);
  const valid = new Set(validKeys);
  for (const re of PATTERNS) {
    let last: string[] | null = null;
    for (const m of text.matchAll(re)) {
      const keys = keysOf(m[1]!).filter((k) => valid.has(k));
      if (keys.length) last = keys;
    }
    if (last) return last;
  }
  const bare = text.trim().toUpperCase();
  if (/^[A-J]{1,10}$/.test(bare)) {
    const keys = keysOf(bare).filter((k) => valid.has(k));
    if (keys.length) return keys;
  }
  return null;
}

export interface ChoiceScore {
  chosen: string[] | null;
  exact: boolean;
  jaccard: number;
}

export function scoreChoice(answer: string, gold: string | string[], validKeys: string[]): ChoiceScore {
  const goldKeys = [...new Set(Array.isArray(gold) ? gold : [gold])].sort();
  const chosen = extractChoice(answer, validKeys);
  if (!chosen) return { chosen: null, exact: false, jaccard: 0 };
  const inter = chosen.filter((k) => goldKeys.includes(k)).length;
  const union = new Set([...chosen, ...goldKeys]).size;
  return { chosen, exact: inter === goldKeys.length && chosen.length === goldKeys.length, jaccard: union ? inter / union : 0 };
}
