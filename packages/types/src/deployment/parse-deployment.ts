/**
 * parseDeployment: untrusted JSON in, a validated Deployment out — or a ValidationError that lists
 * every problem (workload, field, value, expected). Never throws anything else, never coerces.
 *
 * @example
 * ```ts
 * const d = parseDeployment(JSON.parse(body), { externalNetworks: ["shared_net"] });
 * ```
 */
import { ValidationError, type ValidationIssue } from "../errors/validation-error.ts";
import { WORKLOAD_NAME } from "../workloads/common.ts";
import { WORKLOAD_TYPE_NAMES, isWorkloadType, workloadType } from "../workloads/registry.ts";
import { deploymentEnvelopeSchema, workloadEnvelopeSchema, type Deployment, type Workload } from "./deployment.ts";
import { mapZodIssues } from "./map-zod-issues.ts";
import { validateCrossWorkload } from "./validate-deployment.ts";

export interface ValidationContext {
  /**
   * Networks of the same twin that already exist on the node (sharable networks, REFERENCE.md):
   * a zmachine or gateway may name one of these instead of a network in its own deployment.
   */
  externalNetworks?: readonly string[];
}

export function parseDeployment(input: unknown, ctx: ValidationContext = {}): Deployment {
  const issues: ValidationIssue[] = [];
  const env = deploymentEnvelopeSchema.safeParse(input);
  if (!env.success) {
    issues.push(...mapZodIssues(env.error, input, {}));
    // Still look at the workloads, so one pass reports as much as it can.
    const raw = (input !== null && typeof input === "object" ? (input as { workloads?: unknown }).workloads : undefined);
    if (Array.isArray(raw)) parseWorkloads(raw, issues);
    throw new ValidationError(issues);
  }
  const workloads = parseWorkloads(env.data.workloads, issues);
  const deployment: Deployment = { ...env.data, workloads };
  if (issues.length === 0) validateCrossWorkload(deployment, ctx, issues);
  if (issues.length > 0) throw new ValidationError(issues);
  return deployment;
}

/** Parses one workload (envelope + typed data); pushes issues and returns undefined on failure. */
export function parseWorkload(raw: unknown, index: number, issues: ValidationIssue[]): Workload | undefined {
  const rawName = raw !== null && typeof raw === "object" ? (raw as { name?: unknown }).name : undefined;
  const label = typeof rawName === "string" && rawName !== "" ? rawName.slice(0, 40) : `#${index}`;
  const env = workloadEnvelopeSchema.safeParse(raw);
  if (!env.success) {
    issues.push(...mapZodIssues(env.error, raw, { workload: label }));
    return undefined;
  }
  const w = env.data;
  const before = issues.length;
  if (!WORKLOAD_NAME.test(w.name)) {
    issues.push({ workload: label, field: "name", value: w.name, expected: "1 to 36 of a-z A-Z 0-9 _" });
  }
  if (!isWorkloadType(w.type)) {
    issues.push({ workload: label, field: "type", value: w.type, expected: `one of ${WORKLOAD_TYPE_NAMES.join(", ")}` });
    return undefined;
  }
  const def = workloadType(w.type);
  const data = def.schema.safeParse(w.data);
  if (!data.success) {
    issues.push(...mapZodIssues(data.error, w.data, { workload: label, type: w.type, prefix: "data" }));
    return undefined;
  }
  def.validate(data.data, (field, value, expected) => {
    issues.push({ workload: label, type: w.type, field: `data.${field}`, value, expected });
  });
  if (issues.length > before) return undefined;
  return { ...w, type: w.type, data: data.data } as Workload;
}

function parseWorkloads(raw: readonly unknown[], issues: ValidationIssue[]): Workload[] {
  const out: Workload[] = [];
  raw.forEach((r, i) => {
    const w = parseWorkload(r, i, issues);
    if (w) out.push(w);
  });
  return out;
}
