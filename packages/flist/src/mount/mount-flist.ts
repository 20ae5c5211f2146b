/**
 * Mounts an flist read-only with FUSE, lazily: nothing is downloaded until read. The FUSE server
 * runs in a child process (mount-worker.ts); the returned handle owns it.
 *
 * @example
 * ```ts
 * const m = await mountFlist({ flist: "http://hub/flists/0xabc/app.fl", mountpoint: "/mnt/app",
 *   cache: { dir: "/var/cache/zgrid", maxBytes: 2 ** 31 }, trustedSigners: ["0xabc…"] });
 * console.log(await m.metrics());
 * await m.unmount();
 * ```
 */
import { fork, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { MountError } from "../errors/flist-errors.ts";
import { FlistReader } from "../format/flist-reader.ts";
import { fetchFlistFile } from "../format/local-flist.ts";
import { TAGS } from "../format/schema.ts";
import { checkFlistSignature } from "../sign/sign-flist.ts";
import type { HttpStoreOptions } from "../store/http-store.ts";
import type { FetchMetrics } from "./block-fetcher.ts";
import { WORKER_EXEC_ARGV, WORKER_SCRIPT, startMountStandbySoon, takeMountStandby } from "./mount-standby.ts";

export interface MountOptions {
  /** Path or http(s) URL of the .fl file. */
  flist: string;
  mountpoint: string;
  /** Shared block cache (and where downloaded .fl files go). */
  cache: { dir: string; maxBytes: number };
  /** Store specs overriding the flist's routes. */
  stores?: string[];
  requireSignature?: boolean;
  trustedSigners?: string[];
  /** Blocks fetched ahead of a sequential reader (default 8). */
  readAhead?: number;
  /** Seconds to wait for the mount (default 30). */
  timeoutSeconds?: number;
  /**
   * Keep the mount when this process exits (default false): the mount process is detached, logs to
   * `<mountpoint>.log`, and is stopped with SIGTERM to `pid`. The node daemon uses it so a VM's root
   * filesystem survives a daemon restart.
   */
  persist?: boolean;
  /**
   * Limits, cancellation and egress hook for http(s) fetches. `checkAddress`/`lookup`/`signal`
   * apply to the .fl download in this process; the mount's child process gets the numeric limits
   * and loads `egressModule` (a module exporting `checkAddress(ip, family)`) for block fetches.
   */
  http?: HttpStoreOptions & { egressModule?: string };
  /**
   * With `persist`: use a mount process started ahead of need when one is ready, and start the
   * next one (logging under `cache.dir`) afterwards (mount-standby.ts). Saves a process start
   * (0.25–0.4 s) per mount; the node daemon sets it.
   */
  standby?: boolean;
}

export interface MountMetrics extends FetchMetrics {
  cacheBytes: number;
}

export interface MountHandle {
  mountpoint: string;
  /** Local path of the .fl file being served. */
  flistPath: string;
  pid: number;
  metrics(): Promise<MountMetrics>;
  unmount(): Promise<void>;
}

/** Loads `checkAddress` from an egress policy module (path or file URL). */
export async function loadEgressModule(spec: string): Promise<NonNullable<HttpStoreOptions["checkAddress"]>> {
  const mod = (await import(spec.startsWith("file:") ? spec : pathToFileURL(spec).href)) as { checkAddress?: HttpStoreOptions["checkAddress"] };
  if (typeof mod.checkAddress !== "function") throw new MountError(`${spec} does not export checkAddress(ip, family)`);
  return mod.checkAddress;
}

function serializableLimits(http: MountOptions["http"]): MountOptions["http"] {
  if (!http) return undefined;
  const { connectTimeoutMs, headersTimeoutMs, bodyTimeoutMs, idleTimeoutMs, maxBytes, egressModule } = http;
  return { connectTimeoutMs, headersTimeoutMs, bodyTimeoutMs, idleTimeoutMs, maxBytes, egressModule };
}

/** A cold mount process: forked now with its options on the command line. */
async function startCold(args: object, options: MountOptions): Promise<ChildProcess> {
  const persist = options.persist ?? false;
  const logFd = persist ? openSync(`${options.mountpoint}.log`, "a") : undefined;
  const child = fork(WORKER_SCRIPT, [JSON.stringify(args)], {
    stdio: logFd === undefined ? ["ignore", "inherit", "inherit", "ipc"] : ["ignore", logFd, logFd, "ipc"],
    execArgv: WORKER_EXEC_ARGV,
    detached: persist,
  });
  if (logFd !== undefined) closeSync(logFd);
  await waitReady(child, options.timeoutSeconds ?? 30);
  return child;
}

/** The standby mount process given these options; undefined (nothing left running) when none could serve. */
async function startOnStandby(args: object, options: MountOptions): Promise<ChildProcess | undefined> {
  const s = takeMountStandby();
  if (!s?.start(args, options.mountpoint)) return undefined;
  try {
    await waitReady(s.child, options.timeoutSeconds ?? 30);
    return s.child;
  } catch {
    s.child.kill("SIGKILL");
    lazyUnmount(options.mountpoint);
    return undefined; // a cold worker says what is wrong, if anything is
  }
}

/**
 * Lazy-unmounts a stale mount (after a crash); harmless when nothing is mounted. Tries
 * fusermount (Debian `fuse`), fusermount3 (`fuse3`, which replaces `fuse`), then umount -l.
 */
export function lazyUnmount(mountpoint: string): void {
  for (const [cmd, args] of [["fusermount", ["-uz", mountpoint]], ["fusermount3", ["-uz", mountpoint]], ["umount", ["-l", mountpoint]]] as const) {
    const r = spawnSync(cmd, args, { stdio: "ignore" });
    if (r.status === 0 || !isMounted(mountpoint)) return;
  }
}

function isMounted(mountpoint: string): boolean {
  return spawnSync("mountpoint", ["-q", mountpoint], { stdio: "ignore" }).status === 0;
}

export async function mountFlist(options: MountOptions): Promise<MountHandle> {
  const egress = options.http?.egressModule ? await loadEgressModule(options.http.egressModule) : undefined;
  const flistPath = await fetchFlistFile(options.flist, options.cache.dir, { ...(egress ? { checkAddress: egress } : {}), ...options.http });
  const reader = FlistReader.open(flistPath);
  try {
    reader.root();
    if (options.requireSignature || options.trustedSigners || reader.tag(TAGS.signature) !== undefined) {
      await checkFlistSignature(reader, { trustedSigners: options.trustedSigners });
    }
  } finally {
    reader.close();
  }
  lazyUnmount(options.mountpoint);
  mkdirSync(options.mountpoint, { recursive: true });
  const persist = options.persist ?? false;
  const args = { flist: flistPath, mountpoint: options.mountpoint, cache: { dir: join(options.cache.dir, "blocks"), maxBytes: options.cache.maxBytes }, stores: options.stores, readAhead: options.readAhead, persist, http: serializableLimits(options.http) };
  const standby = persist && options.standby === true;
  const child = (standby ? await startOnStandby(args, options) : undefined) ?? await startCold(args, options);
  // the next one a little later: a Node start now would take CPU from the VM booting on this mount
  if (standby) startMountStandbySoon(options.cache.dir, 3_000);
  if (persist) {
    child.disconnect();
    child.unref();
  }
  let nextId = 1;
  let exited = child.exitCode !== null;
  child.once("exit", () => { exited = true; });
  return {
    mountpoint: options.mountpoint,
    flistPath,
    pid: child.pid!,
    metrics: () => new Promise((resolve, reject) => {
      if (exited || !child.connected) return reject(new MountError(exited ? "mount process has exited" : "metrics of a persistent mount are in its log"));
      const id = nextId++;
      const onMsg = (m: { type?: string; id?: number; metrics?: MountMetrics }): void => {
        if (m.type === "metrics" && m.id === id) {
          child.off("message", onMsg);
          resolve(m.metrics!);
        }
      };
      child.on("message", onMsg);
      child.send({ type: "metrics", id });
    }),
    unmount: async () => {
      if (!exited && !child.connected) {
        const gone = new Promise<void>((r) => child.once("exit", () => r()));
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await gone;
        clearTimeout(timer);
      } else if (!exited) {
        const gone = new Promise<void>((r) => child.once("exit", () => r()));
        child.send({ type: "unmount" });
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await gone;
        clearTimeout(timer);
      }
      lazyUnmount(options.mountpoint);
    },
  };
}

function waitReady(child: ChildProcess, timeoutSeconds: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new MountError(`mount did not come up within ${timeoutSeconds} s`));
    }, timeoutSeconds * 1000);
    const done = (err?: Error): void => {
      clearTimeout(timer);
      child.off("message", onMsg);
      child.off("exit", onExit);
      if (err) reject(err); else resolve();
    };
    const onMsg = (m: { type?: string; message?: string }): void => {
      if (m.type === "ready") done();
      if (m.type === "error") done(new MountError(`mount failed: ${m.message}`, { hint: "is /dev/fuse available and fuse/libfuse2 installed?" }));
    };
    const onExit = (code: number | null): void => done(new MountError(`mount process exited (${code}) before the mount was ready`));
    child.on("message", onMsg);
    child.on("exit", onExit);
  });
}
