/**
 * @zgrid/types/core — the light part of @zgrid/types: errors and twin keys, without the workload
 * schemas (zod), deployments or node API. For long-lived processes that need only these (the bus
 * loads this instead of the index: ~20 MiB less resident memory per process, bench/bus).
 *
 * @example
 * ```ts
 * import { BaseError, addressFromPublicKey } from "@zgrid/types/core";
 * ```
 */
export * from "./errors/base.ts";
export * from "./errors/key-error.ts";
export * from "./errors/signature-error.ts";
export * from "./errors/validation-error.ts";
export * from "./keys/twin-key.ts";
