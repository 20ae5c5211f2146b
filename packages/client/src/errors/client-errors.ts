/**
 * Typed errors of the SDK. Each says what went wrong in user terms and, in `hint`, what to do next;
 * `exitCode` is what the CLI exits with (documented in the CLI README).
 *
 * @example
 * ```ts
 * try { await grid.vms.deploy({ name: "web", memoryMiB: 8192 }); }
 * catch (e) { if (e instanceof NoCapacityError) console.error(e.message); }
 * ```
 */
import { BaseError, type BaseErrorOptions } from "@zgrid/types/core";

export class ClientError extends BaseError {
  override readonly code: string = "CLIENT";
  /** Process exit code the CLI uses for this error. */
  readonly exitCode: number = 1;
}

/** The input (flags, spec file, model) is wrong. */
export class InputError extends ClientError {
  override readonly code: string = "INPUT";
  override readonly exitCode: number = 2;
}

/** A spec file is wrong: file, line and field are in the message. */
export class SpecError extends InputError {
  override readonly code: string = "SPEC";
  constructor(file: string, line: number | undefined, field: string, problem: string, options: BaseErrorOptions = {}) {
    super(`${file}${line ? `:${line}` : ""}: ${field ? `${field}: ` : ""}${problem}`, { ...options, details: { file, line, field, ...options.details } });
  }
}

/** A plan would destroy disks (a VM replaced or deleted, a disk dropped) and data loss was not allowed. */
export class DataLossError extends InputError {
  override readonly code: string = "DATA_LOSS";
}

/** A named thing (node, VM, network, contract, flist) does not exist. */
export class NotFoundError extends ClientError {
  override readonly code: string = "NOT_FOUND";
  override readonly exitCode: number = 3;
}

export class UnknownNodeError extends NotFoundError {
  override readonly code: string = "UNKNOWN_NODE";
  constructor(nodeId: number) {
    super(`node ${nodeId} does not exist`, { details: { nodeId }, hint: "list nodes with `zgrid nodes ls`" });
  }
}

export class FlistNotFoundError extends NotFoundError {
  override readonly code: string = "FLIST_NOT_FOUND";
  constructor(url: string, why: string) {
    super(`flist ${url} cannot be fetched (${why})`, { details: { url }, hint: "check the URL; list a hub's flists with `zgrid flist ls --hub <url>` or push one with `zgrid flist push`" });
  }
}

/** No node can take the workload. */
export class NoCapacityError extends ClientError {
  override readonly code: string = "NO_CAPACITY";
  override readonly exitCode: number = 4;
}

export class NoFundsError extends ClientError {
  override readonly code: string = "NO_FUNDS";
  override readonly exitCode: number = 5;
}

/** The node refused the deployment or a workload failed; every contract made was cancelled. */
export class DeployFailedError extends ClientError {
  override readonly code: string = "DEPLOY_FAILED";
  override readonly exitCode: number = 6;
}

/** The deploy was interrupted (Ctrl-C); every contract made was cancelled. */
export class DeployAbortedError extends ClientError {
  override readonly code: string = "DEPLOY_ABORTED";
  override readonly exitCode: number = 130;
}

/** The local grid is not running or its data dir is broken. */
export class LocalGridError extends ClientError {
  override readonly code: string = "LOCAL_GRID";
  override readonly exitCode: number = 7;
}
