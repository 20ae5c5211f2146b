/**
 * The same flags as ZOSD_NODE_FLAGS, split for a launcher that runs zosd from another tree (the
 * upgrader runs it from an unpacked release): `options` as they are, `preloads` as package
 * specifiers the launcher resolves from zosd's own entry file and passes as `--import=<url>`.
 *
 * @example
 * ```ts
 * const url = pathToFileURL(createRequire(zosdEntry).resolve(ZOSD_PRELOADS[0]!)).href;
 * spawn(node, [...ZOSD_NODE_OPTIONS, `--import=${url}`, zosdEntry]);
 * ```
 */
export const ZOSD_NODE_OPTIONS: readonly string[] = ["--max-semi-space-size=1"];
export const ZOSD_PRELOADS: readonly string[] = ["@zgrid/types/strip-cache/register"];

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
export const ZOSD_NODE_FLAGS: readonly string[] = [...ZOSD_NODE_OPTIONS, ...ZOSD_PRELOADS.map((p) => `--import=${import.meta.resolve(p)}`)];

/**
 * The environment zosd runs with, next to its flags: `MALLOC_ARENA_MAX=2` caps glibc's malloc
 * arenas. By default glibc gives threads up to 8 arenas per core, and V8's and libuv's worker
 * threads each take one, holding freed memory the process never uses again: an idle bus peer
 * measured 105.8 MiB with the default and 96.9 MiB with 2 arenas (bench/bus prints both in one
 * run). zosd's work runs on the main thread, so fewer arenas cost it no lock contention.
 *
 * @example
 * ```ts
 * spawn(process.execPath, [...ZOSD_NODE_FLAGS, zosd], { env: { ...process.env, ...ZOSD_ENV } });
 * ```
 */
export const ZOSD_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: "2" };
