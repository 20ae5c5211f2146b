/**
 * One structured logger for every zgrid package (pino, JSON lines on stderr).
 *
 * @example
 * ```ts
 * import { createLogger } from "@zgrid/log";
 * const log = createLogger("zos.engine", { node: 3 });
 * log.child({ deployment: "12-7" }).info({ workload: "vm" }, "provisioned");
 * ```
 * Level from `ZGRID_LOG_LEVEL` (default `info`; tests default to `warn` so output stays readable).
 */
import { pino } from "pino";
import type { Logger } from "pino";
import { serializeError } from "./error-serializer.ts";

export type { Logger };
export { serializeError, type SerializedError } from "./error-serializer.ts";

const defaultLevel = process.env.ZGRID_LOG_LEVEL ?? (process.env.NODE_TEST_CONTEXT ? "warn" : "info");

const root: Logger = pino(
  { level: defaultLevel, base: { pid: process.pid }, serializers: { err: serializeError, error: serializeError } },
  pino.destination({ fd: 2, sync: true }),
);

/** Returns a logger named after the component, with extra context fields on every line. */
export function createLogger(component: string, context: Record<string, unknown> = {}): Logger {
  return root.child({ component, ...context });
}
