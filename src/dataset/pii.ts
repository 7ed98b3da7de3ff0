// Finds personal identifiers in case text before it is sent to an endpoint outside this machine.
import type { Case } from "./schema.js";

export interface IdentifierFinding {
  caseId: string;
  /** Dotted path of the field the text is in. */
  field: string;
  kind: "resident-id" | "mobile" | "email" | "name";
  /** The match with its middle masked, so the report itself does not spread it. */
  masked: string;
}

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = "10X98765432";

/** GB 11643-1999 check digit: a random 18-digit number passes one time in eleven, a real ID always. */
export function validResidentId(id: string): boolean {
  if (!/^\d{17}[\dXx]$/.test(id)) return false;
  const month = Number(id.slice(10, 12));
  const day = Number(id.slice(12, 14));
  if (month < 1 || month > 12 || day < 1 || day > 31) return false;
  const sum = ID_WEIGHTS.reduce((a, w, i) => a + w * Number(id[i]), 0);
  return ID_CHECK[sum % 11] === id[17]!.toUpperCase();
}

function mask(s: string): string {
  if (s.length <= 4) return "*".repeat(s.length);
  const keep = Math.max(1, Math.floor(s.length / 4));
  return s.slice(0, keep) + "*".repeat(s.length - 2 * keep) + s.slice(-keep);
}

const PATTERNS: { kind: IdentifierFinding["kind"]; re: RegExp; check?: (m: string) => boolean }[] = [
  { kind: "resident-id", re: /(?<!\d)\d{17}[\dXx](?![\dXx])/g, check: validResidentId },
  { kind: "mobile", re: /(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)/g },
  { kind: "email", re: /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g },
  // A name right after 姓名/患者 (2–4 CJK characters); 患者 followed by a description (男/女/年龄) is not a name.
  { kind: "name", re: /(?:姓名|患者姓名|病人姓名)\s*[:：]\s*[\u4e00-\u9fa5]{2,4}/g },
];

function scanText(text: string, caseId: string, field: string, out: IdentifierFinding[]): void {
  for (const p of PATTERNS) {
    for (const m of text.matchAll(p.re)) {
      const hit = m[0];
      if (p.check && !p.check(hit)) continue;
      out.push({ caseId, field, kind: p.kind, masked: mask(hit) });
    }
  }
}

function walk(value: unknown, path: string, caseId: string, out: IdentifierFinding[]): void {
  if (typeof value === "string") scanText(value, caseId, path, out);
  else if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}.${i}`, caseId, out));
  else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k, caseId, out);
}

/** Scans what would leave the machine: the input, and the reference (the judge receives it). */
export function scanCase(c: Case): IdentifierFinding[] {
  const out: IdentifierFinding[] = [];
  const fields: Record<string, unknown> = { input: c.input, reference: c.reference };
  if (c.format === "group") fields.variants = c.variants;
  walk(fields, "", c.id, out);
  return out;
}

/** True for endpoints on this machine, where identifiers do not leave it. */
export function isLoopback(baseURL: string | undefined | null): boolean {
  if (!baseURL) return false; // the SDK's default is a public API
  try {
    const host = new URL(baseURL).hostname;
    return host === "localhost" || host === "[::1]" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
  } catch {
    return false;
  }
}
