/**
 * The one base error class of zgrid. Every package's typed errors extend it, so callers can
 * `catch (e) { if (e instanceof BaseError) … }` and read a stable `code`, a short message a user
 * understands, and structured `details` for logs and `--json` output.
 *
 * @example
 * ```ts
 * class NodeNotFoundError extends BaseError {
 *   override readonly code = "NODE_NOT_FOUND";
 *   constructor(id: number) { super(`node ${id} does not exist`, { details: { id }, hint: "list nodes with `zgrid nodes ls`" }); }
 * }
 * ```
 */
export interface BaseErrorOptions {
  /** Structured facts about the failure (ids, values, limits). JSON-serialisable. */
  details?: Record<string, unknown>;
  /** What the user can do about it. */
  hint?: string;
  cause?: unknown;
}

export class BaseError extends Error {
  /** Stable machine-readable code, e.g. `VALIDATION`. Subclasses override it. */
  readonly code: string = "ZGRID_ERROR";
  readonly shortMessage: string;
  readonly details: Record<string, unknown>;
  readonly hint: string | undefined;

  constructor(shortMessage: string, options: BaseErrorOptions = {}) {
    super(options.hint ? `${shortMessage}\n  hint: ${options.hint}` : shortMessage, { cause: options.cause });
    this.name = new.target.name;
    this.shortMessage = shortMessage;
    this.details = options.details ?? {};
    this.hint = options.hint;
  }

  /** A plain object for JSON output and for sending over the bus. */
  toJSON(): { code: string; message: string; details: Record<string, unknown>; hint?: string } {
    return { code: this.code, message: this.shortMessage, details: this.details, ...(this.hint ? { hint: this.hint } : {}) };
  }
}
