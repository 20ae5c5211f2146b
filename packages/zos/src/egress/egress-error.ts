import { BaseError } from "@zgrid/types";

/**
 * The node refused to fetch from or connect to an address on a tenant's behalf. The message says
 * which target and why (loopback, link-local, the node's own address, …), never whether anything
 * answers there.
 *
 * @example
 * ```ts
 * throw new EgressRefusedError("ws://127.0.0.1:22/", "127.0.0.1 is a loopback address");
 * ```
 */
export class EgressRefusedError extends BaseError {
  override readonly code: string = "EGRESS_REFUSED";

  constructor(target: string, reason: string) {
    super(`refused to connect to ${target}: ${reason}`, {
      details: { target, reason },
      hint: "use a public address or name; the node never connects to its own, loopback, link-local or service addresses for a tenant",
    });
  }
}
