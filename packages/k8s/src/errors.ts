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

/** A node to be removed holds a PersistentVolume bound to a claim (its data would go with it). */
export class K8sVolumeInUseError extends BaseError {
  override readonly code = "K8S_VOLUME_IN_USE";
}
