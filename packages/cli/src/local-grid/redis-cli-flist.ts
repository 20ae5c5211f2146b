/**
 * A small flist with a real Redis client: the busybox root plus `redis-cli` from Debian's
 * `redis-tools` package (installed by setup, packages/cli/apt-packages.txt) and the shared
 * libraries it loads (as the dynamic loader resolves them here: Debian 12's), at the same paths.
 * About 13 MB; built in well under a second from the installed package, no download. Published
 * on the local grid as flist `redis` (`zgrid up --redis`), signed by the local farm; the package
 * version is in the flist's tag `zgrid.redis-tools`.
 *
 * @example
 * ```ts
 * const url = await ensureRedisCliFlist({ dataDir });   // then: zgrid vm deploy c --flist redis
 * await buildRedisCliRoot("/tmp/x/root");                // the tree alone
 * ```
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, realpathSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { LocalGridError, readLocalGrid } from "@zgrid/client";
import { buildBusyboxRoot } from "@zgrid/zos/hypervisor";
import { publishLocalFlist, servedFlist } from "./local-flist.ts";

const REDIS_CLI = "/usr/bin/redis-cli";

export const REDIS_ENTRYPOINT = `#!/bin/sh
echo "ZGRID-READY $(hostname) $(redis-cli --version)"
exec sleep 2147483647
`;

/** The installed redis-tools version (Debian's package that ships redis-cli). */
export function redisToolsVersion(): string {
  const owner = spawnSync("dpkg-query", ["-S", REDIS_CLI], { encoding: "utf8" });
  const version = spawnSync("dpkg-query", ["-W", "-f", "${Version}", "redis-tools"], { encoding: "utf8" });
  if (owner.status !== 0 || !owner.stdout.startsWith("redis-tools:") || version.status !== 0 || !version.stdout) {
    throw new LocalGridError(`${REDIS_CLI} from Debian's redis-tools is not installed`, { hint: "run `bash scripts/setup.sh` (or apt-get install redis-tools)" });
  }
  return version.stdout.trim();
}

/** The files redis-cli needs at run time: itself, the dynamic loader and every library it loads. */
export function redisCliFiles(): string[] {
  const r = spawnSync("ldd", [REDIS_CLI], { encoding: "utf8" });
  if (r.status !== 0) throw new LocalGridError(`ldd ${REDIS_CLI} failed: ${r.stderr.trim()}`, { hint: "reinstall redis-tools" });
  const libs = [...r.stdout.matchAll(/^\s*(?:\S+ => )?(\/\S+) \(0x[0-9a-f]+\)$/gm)].map((m) => m[1] as string);
  const missing = [...r.stdout.matchAll(/^\s*(\S+) => not found$/gm)].map((m) => m[1]);
  if (missing.length) throw new LocalGridError(`redis-cli's libraries ${missing.join(", ")} are missing`, { hint: "reinstall redis-tools" });
  return [REDIS_CLI, ...libs];
}

/** The busybox root + redis-cli and its libraries (each a regular file at the path it is loaded from). */
export async function buildRedisCliRoot(root: string, entrypoint = REDIS_ENTRYPOINT): Promise<void> {
  redisToolsVersion();
  await buildBusyboxRoot(root, entrypoint);
  for (const f of redisCliFiles()) {
    mkdirSync(join(root, dirname(f)), { recursive: true });
    copyFileSync(realpathSync(f), join(root, f));
  }
}

/** Publishes flist `redis` on the local grid (once per data dir: reused while the hub serves it); its URL. */
export async function ensureRedisCliFlist(o: { dataDir: string; onProgress?: (m: string) => void }): Promise<string> {
  const cached = await servedFlist(readLocalGrid(o.dataDir).flists.redis);
  if (cached) return cached;
  const version = redisToolsVersion();
  const work = join(o.dataDir, "build", "redis");
  rmSync(work, { recursive: true, force: true });
  await buildRedisCliRoot(join(work, "root"));
  o.onProgress?.(`publishing flist redis: busybox + redis-cli ${version} (Debian redis-tools)`);
  return publishLocalFlist({ dataDir: o.dataDir, name: "redis", root: join(work, "root"), work, tags: { "zgrid.redis-tools": version } });
}
