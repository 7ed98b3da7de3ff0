import type { z } from "zod";

/** A zod issue as a field path and a message that says what was expected, for every input error we print. */
export function describeZodIssue(i: z.core.$ZodIssue): { field: string; message: string } {
  const path = i.path.map(String);
  if (i.code === "unrecognized_keys") {
    const keys = (i as { keys: string[] }).keys;
    return { field: [...path, keys[0]!].join("."), message: `unknown field${keys.length > 1 ? `s ${keys.map((k) => `"${k}"`).join(", ")}` : ""} (not part of this format: check the spelling)` };
  }
  if (i.code === "invalid_key") {
    const inner = (i as { issues?: { message: string }[] }).issues?.[0]?.message;
    return { field: path.join("."), message: inner ? `invalid key: ${inner}` : i.message };
  }
  return { field: path.join("."), message: i.message };
}

/** "field.path: message" for every issue, so errors name the field and what was expected. */
export function zodIssueLines(error: z.ZodError): string[] {
  return error.issues.map((i) => {
    const d = describeZodIssue(i);
    return `${d.field || "(record)"}: ${d.message}`;
  });
}
