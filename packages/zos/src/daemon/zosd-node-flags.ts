/**
 * The Node flags zosd runs with (issue 14: idle RSS; `bench/zos/idle-rss.ts` measures the daemon
 * with and without them):
 * - `--max-semi-space-size=1` (MiB) keeps V8's young generation small: by default it grows to
 *   3 × 16 MiB, which an idle daemon holds on to for nothing. The daemon allocates little between
 *   requests, so the extra scavenges cost next to nothing.
 * - `--import=<@zgrid/types/strip-cache/register>`: type-stripped sources come from a cache
 *   (`$ZGRID_CACHE_DIR`, else `~/.cache/zgrid`), so once it is warm — `zosd --account`, which every
 *   launcher runs first, loads the same files — Node's TypeScript stripper (a wasm module holding
 *   ~25 MiB for the life of the process) is never loaded. `ZGRID_STRIP_CACHE=0` turns it off.
 * Every place that starts zosd passes these (the local grid, the test fixtures).
 *
 * @example
 * ```ts
 * spawn(process.execPath, [...ZOSD_NODE_FLAGS, "packages/zos/bin/zosd.ts", "--config", path]);
 * ```
 */
export const ZOSD_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=1", `--import=${import.meta.resolve("@zgrid/types/strip-cache/register")}`];
