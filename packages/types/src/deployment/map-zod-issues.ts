/** Turns zod issues into zgrid ValidationIssues that name the workload, field, value and expectation. */
import type { z } from "zod";
import type { ValidationIssue } from "../errors/validation-error.ts";

/** Reads a value at a path without throwing on odd shapes (input comes from the network). */
export function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const key of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = Object.hasOwn(cur, key) ? (cur as Record<PropertyKey, unknown>)[key] : undefined;
  }
  return cur;
}

function expectation(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return `a value of type ${issue.expected}`;
    case "too_small":
      return issue.origin === "array" ? `at least ${issue.minimum} item(s)` : issue.origin === "string" ? `at least ${issue.minimum} character(s)` : `a number ${issue.inclusive ? ">=" : ">"} ${issue.minimum}`;
    case "too_big":
      return issue.origin === "array" ? `at most ${issue.maximum} item(s)` : issue.origin === "string" ? `at most ${issue.maximum} character(s)` : `a number ${issue.inclusive ? "<=" : "<"} ${issue.maximum}`;
    case "unrecognized_keys":
      return `no unknown field (remove: ${issue.keys.join(", ")})`;
    case "invalid_value":
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "invalid_format":
      return `a string in ${issue.format} format`;
    default:
      return issue.message.replace(/^Invalid input:?\s*/i, "") || "a valid value";
  }
}

/**
 * Maps zod issues of `input` (parsed at `basePath` of the deployment) to ValidationIssues.
 * `workload`/`type` name the workload when the input is one workload's data or envelope.
 */
export function mapZodIssues(
  error: z.ZodError,
  input: unknown,
  where: { workload?: string | undefined; type?: string | undefined; prefix?: string },
): ValidationIssue[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String);
    const field = [where.prefix, ...path].filter((p) => p !== undefined && p !== "").join(".") || "(root)";
    const value = issue.code === "unrecognized_keys" ? issue.keys : valueAt(input, issue.path);
    return { workload: where.workload, type: where.type, field, value, expected: expectation(issue) };
  });
}
