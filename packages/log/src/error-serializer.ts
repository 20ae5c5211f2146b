/**
 * How errors appear in zgrid's logs: one short line per error in the cause chain, not pino's default
 * (which concatenates every cause's full message and stack — a single viem revert logged that way
 * was ~10 KB of repeated "Details: … Version: …" text).
 *
 * @example
 * ```ts
 * serializeError(new Error("outer", { cause: new Error("inner") }));
 * // → { type: "Error", message: "outer", stack: "Error: outer\n    at …", causes: ["Error: inner"] }
 * ```
 */

/** Longest message kept per error; the rest is cut with a marker. */
const MAX_MESSAGE = 400;
/** Stack frames kept for the outermost error. */
const MAX_FRAMES = 8;
/** Causes followed (a chain can be cyclic or very deep). */
const MAX_CAUSES = 4;

export interface SerializedError {
  type: string;
  message: string;
  code?: string;
  hint?: string;
  details?: unknown;
  stack?: string;
  causes?: string[];
}

function clip(text: string): string {
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}… (${text.length - MAX_MESSAGE} more chars)` : text;
}

/** The message a user wrote for this error: a typed error's short message, else its first paragraph. */
function ownMessage(e: Record<string, unknown>): string {
  if (typeof e.shortMessage === "string" && e.shortMessage) return e.shortMessage;
  const message = typeof e.message === "string" ? e.message : String(e.message ?? "");
  return message.split("\n\n")[0] ?? message;
}

function typeOf(e: unknown): string {
  if (e && typeof e === "object") return (e as { name?: unknown }).name?.toString() ?? e.constructor?.name ?? "Object";
  return typeof e;
}

/** A bounded, JSON-safe view of any thrown value (non-errors are shown as they are, clipped). */
export function serializeError(err: unknown): SerializedError | unknown {
  if (!(err instanceof Error)) return err && typeof err === "object" ? err : { type: typeof err, message: clip(String(err)) };
  const e = err as unknown as Record<string, unknown>;
  const out: SerializedError = { type: typeOf(err), message: clip(ownMessage(e)) };
  if (typeof e.code === "string" || typeof e.code === "number") out.code = String(e.code);
  if (typeof e.hint === "string") out.hint = e.hint;
  if (e.details && typeof e.details === "object") out.details = e.details;
  if (err.stack) out.stack = err.stack.split("\n").filter((l) => l.startsWith("    at ")).slice(0, MAX_FRAMES).join("\n");
  const causes: string[] = [];
  const seen = new Set<unknown>([err]);
  for (let c: unknown = err.cause; c !== undefined && c !== null && causes.length < MAX_CAUSES && !seen.has(c); c = (c as { cause?: unknown }).cause) {
    seen.add(c);
    causes.push(`${typeOf(c)}: ${clip(c instanceof Error || (c && typeof c === "object") ? ownMessage(c as Record<string, unknown>) : String(c))}`);
  }
  if (causes.length) out.causes = causes;
  return out;
}
