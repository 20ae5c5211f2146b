/**
 * Typed refusals of the provision engine. They travel back over the bus with their code, message,
 * details and hint (DESIGN.md step 3: each says what was wrong and what to do).
 */
import { BaseError, type BaseErrorOptions } from "@zgrid/types";

/** The request came from another twin than the deployment's owner. */
export class TwinMismatchError extends BaseError {
  override readonly code: string = "TWIN_MISMATCH";
}

/** No live node contract for this node with this deployment's hash and twin. */
export class ContractMismatchError extends BaseError {
  override readonly code: string = "CONTRACT_MISMATCH";
}

/** The node does not have the capacity the deployment needs. */
export class InsufficientCapacityError extends BaseError {
  override readonly code: string = "INSUFFICIENT_CAPACITY";
}

/** No deployment with that contract id for the calling twin. */
export class DeploymentNotFoundError extends BaseError {
  override readonly code: string = "DEPLOYMENT_NOT_FOUND";
  constructor(contractId: number, options: BaseErrorOptions = {}) {
    super(`no deployment for contract ${contractId} of your twin on this node`, { details: { contract_id: contractId }, ...options });
  }
}

/** A deploy for a contract this node already holds (use update), or an update of an unknown one. */
export class DeploymentConflictError extends BaseError {
  override readonly code: string = "DEPLOYMENT_CONFLICT";
}

/** The engine is shutting down or not started. */
export class EngineStoppedError extends BaseError {
  override readonly code: string = "ENGINE_STOPPED";
}

/** The twin already holds as many workloads of a kind on this node as the node allows one twin. */
export class TwinQuotaError extends BaseError {
  override readonly code: string = "TWIN_QUOTA";
}
