/** Typed errors of the upgrader: a release refused, a build failed, a bad config. */
import { BaseError } from "@zgrid/types";

/** A release that must not run: bad manifest, unknown signing key, hash mismatch, tampered block. */
export class ReleaseRejectedError extends BaseError {
  override readonly code: string = "RELEASE_REJECTED";
}

/** Building a release failed (missing inputs, bad version). */
export class ReleaseBuildError extends BaseError {
  override readonly code: string = "RELEASE_BUILD";
}

/** The upgrader's config is wrong. */
export class UpgraderConfigError extends BaseError {
  override readonly code: string = "UPGRADER_CONFIG";
}
