/**
 * Deployment and Workload: the wire shape (REFERENCE.md "Deployment", zos field names), as zod
 * schemas for the envelope. Each workload's `data` is checked by its type's schema (registry.ts).
 */
import { z } from "zod";
import { MAX_TEXT } from "../workloads/limits.ts";
import type { WorkloadTypeName, workloadTypes } from "../workloads/registry.ts";
import type { WorkloadType } from "../workloads/workload-type.ts";

export const RESULT_STATES = ["init", "ok", "error", "deleted", "paused", "unchanged"] as const;
export type ResultState = (typeof RESULT_STATES)[number];

const u32 = z.number().int().min(0).max(0xffffffff);
const text = z.string().max(MAX_TEXT).default("");

export const resultSchema = z.strictObject({
  created: z.number().int().min(0),
  state: z.enum(RESULT_STATES),
  message: z.string().max(65536).default(""),
  data: z.unknown().optional(),
});
export type WorkloadResult = z.infer<typeof resultSchema>;

export const workloadEnvelopeSchema = z.strictObject({
  version: u32.default(0),
  name: z.string().max(256),
  type: z.string().max(64),
  data: z.unknown(),
  metadata: text,
  description: text,
  result: resultSchema.optional(),
});

export const signatureRequestSchema = z.strictObject({
  twin_id: u32.min(1),
  required: z.boolean().default(false),
  weight: z.number().int().min(1).max(1_000_000),
});

export const signatureSchema = z.strictObject({
  twin_id: u32.min(1),
  signature: z.string().max(200),
  signature_type: z.literal("secp256k1").default("secp256k1"),
});

export const signatureRequirementSchema = z.strictObject({
  requests: z.array(signatureRequestSchema).min(1).max(32),
  weight_required: z.number().int().min(1),
  signatures: z.array(signatureSchema).max(32).default([]),
  signature_style: z.string().max(64).default(""),
});

export const deploymentEnvelopeSchema = z.strictObject({
  version: u32.default(0),
  twin_id: u32.min(1),
  contract_id: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
  metadata: text,
  description: text,
  /** Unix seconds after which the deployment may be dropped; 0 = never. */
  expiration: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
  signature_requirement: signatureRequirementSchema,
  workloads: z.array(z.unknown()).max(256),
});

export type SignatureRequest = z.infer<typeof signatureRequestSchema>;
export type Signature = z.infer<typeof signatureSchema>;
export type SignatureRequirement = z.infer<typeof signatureRequirementSchema>;

/** The data type of a workload type. */
export type DataOf<K extends WorkloadTypeName> = (typeof workloadTypes)[K] extends WorkloadType<infer T> ? T : never;

/** A workload of one type. */
export interface WorkloadOf<K extends WorkloadTypeName> {
  version: number;
  name: string;
  type: K;
  data: DataOf<K>;
  metadata: string;
  description: string;
  result?: WorkloadResult | undefined;
}

/** Any workload: a union discriminated by `type`, so `if (w.type === "zmachine") w.data.compute_capacity`. */
export type Workload = { [K in WorkloadTypeName]: WorkloadOf<K> }[WorkloadTypeName];

/** A parsed, validated deployment (defaults filled in). */
export interface Deployment {
  version: number;
  twin_id: number;
  contract_id: number;
  metadata: string;
  description: string;
  expiration: number;
  signature_requirement: SignatureRequirement;
  workloads: Workload[];
}

/** Workload id on a node: `<twin>-<contract>-<name>` (REFERENCE.md); see workload-id.ts. */
export { workloadId } from "./workload-id.ts";
