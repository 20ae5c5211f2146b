/**
 * The Node flags zosd runs with. `--max-semi-space-size=1` (MiB) keeps V8's young generation small:
 * by default it grows to 3 × 16 MiB, which an idle daemon holds on to for nothing (issue 14: idle
 * RSS). The daemon allocates little between requests, so the extra scavenges cost next to nothing.
 * Every place that starts zosd passes these (the local grid, the test fixtures);
 * `bench/zos/idle-rss.ts` measures the daemon with and without them.
 *
 * @example
 * ```ts
 * spawn(process.execPath, [...ZOSD_NODE_FLAGS, "packages/zos/bin/zosd.ts", "--config", path]);
 * ```
 */
export const ZOSD_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=1"];
