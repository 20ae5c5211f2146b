import { BaseError } from "./base.ts";

/** One thing wrong with a deployment: which workload, which field, the value, what was expected. */
export interface ValidationIssue {
  /** Workload name (or `#<index>` when it has no usable name); undefined for deployment fields. */
  workload?: string | undefined;
  /** Workload type, when known. */
  type?: string | undefined;
  /** Dotted path of the field inside the workload data or the deployment, e.g. `compute_capacity.cpu`. */
  field: string;
  /** The offending value (truncated when long). */
  value: unknown;
  /** What a valid value looks like. */
  expected: string;
}

/**
 * A deployment or workload failed validation. `issues` lists every problem found; the message
 * names the first one so a user sees what is wrong without reading details.
 *
 * @example
 * ```ts
 * try { parseDeployment(json); } catch (e) {
 *   if (e instanceof ValidationError) console.error(e.issues.map(formatIssue).join("\n"));
 * }
 * ```
 */
export class ValidationError extends BaseError {
  override readonly code: string = "VALIDATION";
  readonly issues: readonly ValidationIssue[];

  constructor(issues: ValidationIssue[]) {
    const first = issues[0] ?? { field: "(deployment)", value: undefined, expected: "a valid deployment" };
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
    super(`${formatIssue(first)}${more}`, { details: { issues: issues.map(jsonIssue) } });
    this.issues = issues;
  }

  get workload(): string | undefined { return this.issues[0]?.workload; }
  get field(): string | undefined { return this.issues[0]?.field; }
  get value(): unknown { return this.issues[0]?.value; }
  get expected(): string | undefined { return this.issues[0]?.expected; }
}

/** `workload 'vm' (zmachine): compute_capacity.cpu = 0: expected an integer >= 1` */
export function formatIssue(issue: ValidationIssue): string {
  const where = issue.workload !== undefined
    ? `workload '${issue.workload}'${issue.type ? ` (${issue.type})` : ""}: `
    : "deployment: ";
  return `${where}${issue.field} = ${showValue(issue.value)}: expected ${issue.expected}`;
}

function jsonIssue(issue: ValidationIssue): ValidationIssue {
  return { ...issue, value: showValue(issue.value) };
}

/** Short printable form of any value (never throws: values come from the network). */
export function showValue(value: unknown): string {
  let text: string;
  try {
    text = value === undefined ? "undefined" : typeof value === "bigint" ? `${value}n` : JSON.stringify(value) ?? String(value);
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
