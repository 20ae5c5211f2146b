/**
 * The contract every workload type implements (REFERENCE.md: Valid, Challenge, Capacity).
 * One file per type under workloads/, all wired in one registry (registry.ts).
 */
import type { z } from "zod";
import type { Capacity } from "../capacity/capacity.ts";
import type { Encoder } from "../encoding/encoder.ts";

/** Reports one problem with a field of the workload's data (`field` is relative to data). */
export type ReportIssue = (field: string, value: unknown, expected: string) => void;

export interface WorkloadType<T> {
  /** The wire name, e.g. "zmachine". */
  readonly type: string;
  /** Structure of `data`: types, ranges, formats. Strict: unknown fields are refused. */
  readonly schema: z.ZodType<T>;
  /** Rules beyond structure that need only this workload's data. */
  validate(data: T, report: ReportIssue): void;
  /** Appends the bytes this workload's data contributes to the deployment hash. */
  challenge(enc: Encoder, data: T): void;
  /** Resources the workload reserves on a node. */
  capacity(data: T): Capacity;
  /** Whether an update may change it in place (REFERENCE.md: network, zmount, volume, zdb). */
  readonly updatable: boolean;
}

/** Identity helper that keeps the data type of a definition. */
export function defineWorkloadType<T>(def: WorkloadType<T>): WorkloadType<T> {
  return def;
}
