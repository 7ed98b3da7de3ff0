import type { z } from "zod";

/** "field.path: message" for every issue, so errors name the field and what was expected. */
export function zodIssueLines(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.length ? i.path.join(".") : "(record)"}: ${i.message}`);
}
