/**
 * Every chain call of the node has a deadline (issue 12): an RPC endpoint that is slow or never
 * answers must not stall the daemon. `withChainDeadline(client)` returns the same client whose
 * every method that returns a promise (and every method of its `publicClient`) settles within
 * its bound, or rejects with `ChainTimeoutError` (`CHAIN_TIMEOUT`) naming the call.
 *
 * Reads get `readMs`; the writes listed in `writes` (send + wait for the receipt) get `writeMs`.
 * The abandoned request is not cancelled (viem's transport gives up on its own); the caller is
 * free at once. Methods that return something else (e.g. `watchEvents`' unwatch) pass through.
 *
 * @example
 * ```ts
 * const chain = withChainDeadline(createGridClient({ rpcUrl, addresses, account }), { readMs: 15_000, writeMs: 150_000, rpcUrl });
 * await chain.getContract(12); // ChainTimeoutError after 15 s if the RPC never answers
 * ```
 */
import { BaseError } from "@zgrid/types";

export class ChainTimeoutError extends BaseError {
  override readonly code: string = "CHAIN_TIMEOUT";
}

/** The node's chain writes: each is a transaction sent and waited for. */
export const CHAIN_WRITES: ReadonlySet<string> = new Set([
  "createTwin", "updateTwin", "registerNode", "updateNode", "reportContractResources", "reportContractResourcesBatch", "reportNetworkUsage",
  "reportUptime", "setPowerState",
]);

export interface ChainDeadlineOptions {
  /** Bound of a read, ms (default 15 s). */
  readMs?: number;
  /** Bound of a write (send + receipt), ms (default 150 s). */
  writeMs?: number;
  /** Method names that are writes (default CHAIN_WRITES). */
  writes?: ReadonlySet<string>;
  /** Named in the error's hint. */
  rpcUrl?: string;
}

/** Nested objects whose methods are chain calls too. */
const NESTED = new Set(["publicClient", "walletClient"]);

export function withChainDeadline<T extends object>(client: T, options: ChainDeadlineOptions = {}): T {
  const readMs = options.readMs ?? 15_000;
  const writeMs = options.writeMs ?? 150_000;
  const writes = options.writes ?? CHAIN_WRITES;
  const wrap = <O extends object>(target: O, prefix: string): O => {
    const cache = new Map<PropertyKey, unknown>();
    return new Proxy(target, {
      get(obj, key, receiver) {
        const value: unknown = Reflect.get(obj, key, receiver);
        if (typeof key !== "string") return value;
        if (cache.has(key)) return cache.get(key);
        let out = value;
        if (typeof value === "function") {
          const fn = value as (...args: unknown[]) => unknown;
          const name = `${prefix}${key}`;
          const ms = writes.has(key) ? writeMs : readMs;
          out = (...args: unknown[]): unknown => {
            const result = fn.apply(obj, args);
            return result instanceof Promise ? withDeadline(result, ms, name, options.rpcUrl) : result;
          };
        } else if (value && typeof value === "object" && NESTED.has(key)) {
          out = wrap(value, `${key}.`);
        } else {
          return value;
        }
        cache.set(key, out);
        return out;
      },
    });
  };
  return wrap(client, "");
}

/** Races `promise` against `ms`; the timer never keeps the process alive. */
export function withDeadline<V>(promise: Promise<V>, ms: number, call: string, rpcUrl?: string): Promise<V> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ChainTimeoutError(`chain call ${call} did not answer within ${ms} ms`, {
      details: { call, timeoutMs: ms, ...(rpcUrl ? { rpcUrl } : {}) },
      hint: `is the chain RPC${rpcUrl ? ` at ${rpcUrl}` : ""} reachable and answering? the node retries on its next pass`,
    })), ms);
    timer.unref?.();
  });
  // The abandoned call may still fail later: never an unhandled rejection.
  promise.catch(() => undefined);
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
