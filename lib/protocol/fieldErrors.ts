/** Zod issues as messages per dotted field path, for forms to show field by field. */
import type { z } from "zod";

export type FieldErrors = Record<string, string[]>;

function issueFields(issue: z.core.$ZodIssue): string[] {
  const base = issue.path.map(String);
  if (issue.code === "unrecognized_keys") return issue.keys.map((key) => [...base, key].join("."));
  return [base.join(".")];
}

function issueMessage(issue: z.core.$ZodIssue): string {
  return issue.code === "unrecognized_keys" ? "unknown setting" : issue.message;
}

export function fieldErrors(error: z.ZodError): FieldErrors {
  // Field names come from the request ("constructor", "toString", "__proto__" included):
  // an object without a prototype has no such keys of its own to collide with.
  const out: FieldErrors = Object.create(null);
  for (const issue of error.issues) {
    for (const field of issueFields(issue)) {
      if (!Object.hasOwn(out, field)) out[field] = [];
      out[field].push(issueMessage(issue));
    }
  }
  return out;
}
