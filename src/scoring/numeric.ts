import { toHalfWidth } from "./normalize.js";

const NUM = "[-−]?\\d[\\d,]*(?:\\.\\d+)?";

function parseNum(s: string): number {
  return Number(s.replace(/,/g, "").replace("−", "-"));
}

/** The number an answer settles on: after "答案/结果/answer", else the last number in the text. */
export function extractNumber(answer: string): number | null {
  const text = toHalfWidth(answer);
  const marked = [...text.matchAll(new RegExp(`(?:最终答案|答案|结果|answer|result)\\s*(?:是|为|约为|约|=|≈)?\\s*[:：]?\\s*(?:约|≈)?\\s*(${NUM})`, "gi"))];
  if (marked.length) return parseNum(marked[marked.length - 1]![1]!);
  const all = [...text.matchAll(new RegExp(NUM, "g"))];
  return all.length ? parseNum(all[all.length - 1]![0]) : null;
}

export interface NumericScore {
  value: number | null;
  within: boolean;
}

export function scoreNumeric(answer: string, gold: number, tol: { abs?: number; rel?: number }): NumericScore {
  const value = extractNumber(answer);
  if (value === null || !Number.isFinite(value)) return { value: null, within: false };
  const diff = Math.abs(value - gold);
  const within = (tol.abs !== undefined && diff <= tol.abs + 1e-9) || (tol.rel !== undefined && diff <= tol.rel * Math.abs(gold) + 1e-9);
  return { value, within };
}
