import { BaseError, type BaseErrorOptions } from "@zgrid/types/core";

/**
 * A failure talking to the chain that is not one of the contracts' own refusals: transport errors,
 * unknown reverts, a transaction that was mined but failed.
 */
export class ChainError extends BaseError {
  override readonly code: string = "CHAIN_ERROR";
  constructor(message: string, options: BaseErrorOptions = {}) {
    super(message, options);
  }
}

/**
 * A contract refused a call. `code` is the Solidity error name in UPPER_SNAKE (e.g. NODE_IN_STANDBY),
 * `details.revert` the error's name and `details` its arguments. Subclasses group them by domain.
 */
export class ChainRevertError extends BaseError {
  override readonly code: string;
  /** The Solidity custom error name, e.g. `NodeInStandby`. */
  readonly errorName: string;
  constructor(errorName: string, message: string, options: BaseErrorOptions = {}) {
    super(message, options);
    this.errorName = errorName;
    this.code = errorName.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
  }
}

/** The sender may not do this (wrong account, not the farmer, not the node's twin, not admin). */
export class AuthorizationError extends ChainRevertError {}
