/**
 * Errors of the message bus. Local failures (timeout, unreachable twin, oversize request) are
 * thrown as their own classes; anything the remote peer answered with an error travels back as
 * `{code, message, details, hint}` and is re-thrown here as a BusRemoteError keeping that code.
 *
 * @example
 * ```ts
 * try { await bus.request(7, "zos.deployment.get", { contract_id: 1 }); }
 * catch (e) {
 *   if (e instanceof BusRemoteError && e.code === "DEPLOYMENT_NOT_FOUND") …;
 *   if (e instanceof BusTimeoutError) …;
 * }
 * ```
 */
import { BaseError, type BaseErrorOptions } from "@zgrid/types/core";

/** Codes the bus itself puts in error responses (handlers may use any other code). */
export const BUS_ERROR_CODES = {
  badRequest: "BUS_BAD_REQUEST",
  expired: "BUS_EXPIRED",
  futureDated: "BUS_FUTURE_DATED",
  replayed: "BUS_REPLAYED",
  badSignature: "BUS_BAD_SIGNATURE",
  wrongDestination: "BUS_WRONG_DESTINATION",
  unknownSource: "BUS_UNKNOWN_SOURCE",
  sourceMismatch: "BUS_SOURCE_MISMATCH",
  tooLarge: "BUS_MESSAGE_TOO_LARGE",
  rateLimited: "BUS_RATE_LIMITED",
  unknownCommand: "BUS_UNKNOWN_COMMAND",
  noSession: "BUS_NO_SESSION",
  internal: "BUS_INTERNAL",
} as const;

/** Base class of every bus error. */
export class BusError extends BaseError {
  override readonly code: string = "BUS";
}

/** The remote peer answered with an error; `code` is the remote's code. */
export class BusRemoteError extends BusError {
  override readonly code: string;
  constructor(remote: { code: string; message: string; details?: Record<string, unknown>; hint?: string }, options: BaseErrorOptions = {}) {
    super(remote.message, { details: remote.details ?? {}, ...(remote.hint ? { hint: remote.hint } : {}), ...options });
    this.code = remote.code;
  }
}

/** No answer arrived within the request's timeout. */
export class BusTimeoutError extends BusError {
  override readonly code: string = "BUS_TIMEOUT";
}

/** The twin could not be resolved to a peer, or its peer could not be reached. */
export class BusUnreachableError extends BusError {
  override readonly code: string = "BUS_UNREACHABLE";
}

/** The connection was lost after the request was sent and the retry could not confirm it. */
export class BusConnectionLostError extends BusError {
  override readonly code: string = "BUS_CONNECTION_LOST";
}

/** A message exceeds the configured maximum size (checked before sending). */
export class BusMessageTooLargeError extends BusError {
  override readonly code: string = BUS_ERROR_CODES.tooLarge;
}

/** The bus is not started, or is stopping. */
export class BusStoppedError extends BusError {
  override readonly code: string = "BUS_STOPPED";
}

/** A twin record is inconsistent (its peer id is not the key of its account). */
export class BusTwinRecordError extends BusError {
  override readonly code: string = "BUS_TWIN_RECORD";
}

/**
 * The wire form of an error: what a handler's exception becomes in the error response. BaseError
 * subclasses keep code/message/details/hint; anything else becomes a generic internal error so no
 * stack trace or internal message leaks to the caller.
 */
export function errorToWire(error: unknown): { code: string; message: string; details?: Record<string, unknown>; hint?: string } {
  if (error instanceof BaseError) {
    const json = error.toJSON();
    return { code: json.code, message: json.message, details: json.details, ...(json.hint ? { hint: json.hint } : {}) };
  }
  return { code: BUS_ERROR_CODES.internal, message: "the handler failed" };
}
