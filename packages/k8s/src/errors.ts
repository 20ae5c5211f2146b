/**
 * Errors of @zgrid/k8s, each a BaseError with a short message, details and a hint.
 *
 * @example
 * ```ts
 * throw new K8sImageError("debootstrap failed", { hint: "check that Debian's mirror is reachable" });
 * ```
 */
import { BaseError } from "@zgrid/types";

export class K8sImageError extends BaseError {
  override readonly code = "K8S_IMAGE";
}

export class K8sPkiError extends BaseError {
  override readonly code = "K8S_PKI";
}
