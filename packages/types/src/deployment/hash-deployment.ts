/**
 * The deployment hash: keccak-256 over the canonical encoding (encoding/encoder.ts) of every field
 * except contract_id, signatures and results. Versioned by a domain tag so a future encoding can
 * never collide with this one. Documented with a worked example in the package README.
 *
 * @example
 * ```ts
 * const hex = deploymentHashHex(parseDeployment(json)); // "0x5c1e…" — what the node contract stores
 * ```
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { Encoder } from "../encoding/encoder.ts";
import { workloadType } from "../workloads/registry.ts";
import type { Deployment } from "./deployment.ts";

/** Domain tag of encoding version 1. */
export const DEPLOYMENT_ENCODING_V1 = "zgrid/deployment/v1";

/** The canonical bytes a deployment's hash is taken over. */
export function encodeDeployment(d: Deployment): Uint8Array {
  const enc = new Encoder().str(DEPLOYMENT_ENCODING_V1);
  enc.u64(d.version).u64(d.twin_id).str(d.metadata).str(d.description).u64(d.expiration);
  const sr = d.signature_requirement;
  enc.list(sr.requests, (e, r) => e.u64(r.twin_id).bool(r.required).u64(r.weight));
  enc.u64(sr.weight_required).str(sr.signature_style);
  enc.list(d.workloads, (e, w) => {
    e.u64(w.version).str(w.name).str(w.type).str(w.metadata).str(w.description);
    workloadType(w.type).challenge(e, w.data);
  });
  return enc.bytes();
}

/** keccak-256 of the canonical encoding: 32 bytes. */
export function deploymentHash(d: Deployment): Uint8Array {
  return keccak_256(encodeDeployment(d));
}

/** The hash as 0x-hex (bytes32), the form stored in node contracts. */
export function deploymentHashHex(d: Deployment): `0x${string}` {
  return `0x${bytesToHex(deploymentHash(d))}`;
}

/** A workload's content without its version (name, type, texts, data), to detect changes. */
export function workloadContent(w: Deployment["workloads"][number]): Uint8Array {
  const e = new Encoder().str(w.name).str(w.type).str(w.metadata).str(w.description);
  workloadType(w.type).challenge(e, w.data);
  return e.bytes();
}
