/**
 * The node's flist mounts: one lazy, verified FUSE mount per zmachine (via @zgrid/flist), sharing
 * one block cache. Mounts run as detached processes with a pidfile beside the mountpoint, so they
 * survive a daemon restart together with the VMs that use them and can be re-adopted.
 *
 * @example
 * ```ts
 * const mounts = new FlistMounts({ cacheDir: "/var/lib/zos/cache", cacheBytes: 8 * 2 ** 30, requireSignature: true });
 * const m = await mounts.mount("https://hub/flists/0xabc/debian.fl", "/var/lib/zos/mnt/7-12-vm");
 * mounts.isMounted("/var/lib/zos/mnt/7-12-vm"); // true
 * mounts.workerAlive("/var/lib/zos/mnt/7-12-vm"); // true while its mount process runs
 * await mounts.healthy("/var/lib/zos/mnt/7-12-vm"); // true when it is mounted, served and readable
 * await mounts.unmount("/var/lib/zos/mnt/7-12-vm");
 * ```
 */
import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, rmdir, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { FlistReader, isFlistUrl, lazyUnmount, mountFlist, readFlistMeta, startMountStandby, stopMountStandby, type FlistMeta } from "@zgrid/flist";
import { BaseError } from "@zgrid/types";
import { egressDownload } from "../../egress/egress-fetch.ts";
import { EgressPolicy } from "../../egress/egress-policy.ts";
import { flistBootMode } from "./flist-path.ts";

export class FlistRefusedError extends BaseError {
  override readonly code: string = "FLIST_REFUSED";
}

export interface FlistMountsOptions {
  cacheDir: string;
  cacheBytes: number;
  /** Refuse unsigned flists. Signed ones are always verified. */
  requireSignature: boolean;
  /** When set, only these publishers' signatures are accepted. */
  trustedSigners?: string[];
  /** Store specs overriding the flists' own routes (e.g. the local hub). */
  stores?: string[];
  /** Checks flist URLs and, without `stores`, the flist's own routes (default: refuse loopback, own addresses, …). */
  policy?: EgressPolicy;
  /** Deadline of a .fl download (default 60 s). */
  downloadTimeoutMs?: number;
  /** Largest .fl accepted (default 64 MiB). */
  maxFlistBytes?: number;
  /** Keep a mount process started ahead of the next mount (@zgrid/flist startMountStandby): the daemon sets it. */
  standby?: boolean;
}

export interface MountedFlist {
  mountpoint: string;
  flistPath: string;
  /** Startup, content mode and size, read from the listing (no block is fetched). */
  meta: FlistMeta;
  /** Boot mode from the listing's entry types (flist-path.ts flistBootMode). */
  mode: "image" | "container";
}

export class FlistMounts {
  private readonly o: FlistMountsOptions;

  constructor(options: FlistMountsOptions) {
    this.o = options;
  }

  /** Starts the standby mount process now (with `standby`), so that even the first VM's mount is warm. */
  async warmUp(): Promise<void> {
    if (!this.o.standby) return;
    await mkdir(this.o.cacheDir, { recursive: true });
    startMountStandby(this.o.cacheDir);
  }

  /** Ends the standby mount process (the daemon stops; VMs' own mounts stay). */
  coolDown(): void {
    stopMountStandby();
  }

  /**
   * Mounts (or re-uses a live mount of) the flist at `mountpoint`. An http(s) flist is downloaded
   * through the egress policy, with a deadline and a size cap, to `<mountpoint>.fl` (removed by
   * unmount); `signal` aborts the download and the mount.
   */
  async mount(flist: string, mountpoint: string, signal?: AbortSignal): Promise<MountedFlist> {
    const meta = `${mountpoint}.json`;
    if (this.isMounted(mountpoint)) {
      const known = JSON.parse(await readFile(meta, "utf8").catch(() => "{}")) as { flist?: string; flistPath?: string };
      if (known.flist === flist && known.flistPath) return this.#describe(mountpoint, known.flistPath);
      await this.unmount(mountpoint);
    }
    if (!isFlistUrl(flist)) throw new FlistRefusedError(`flist ${JSON.stringify(flist.slice(0, 200))} is not an http(s) URL`, { hint: "give the flist's URL on a hub" });
    const local = `${mountpoint}.fl`;
    await mkdir(dirname(local), { recursive: true });
    await egressDownload(flist, local, { policy: this.#policy, timeoutMs: this.o.downloadTimeoutMs ?? 60_000, maxBytes: this.o.maxFlistBytes ?? 64 * 2 ** 20, ...(signal ? { signal } : {}) });
    try {
      await this.#checkRoutes(local);
      signal?.throwIfAborted();
      const options: Parameters<typeof mountFlist>[0] = {
        flist: local,
        mountpoint,
        cache: { dir: this.o.cacheDir, maxBytes: this.o.cacheBytes },
        requireSignature: this.o.requireSignature,
        ...(this.o.trustedSigners ? { trustedSigners: this.o.trustedSigners } : {}),
        ...(this.o.stores ? { stores: this.o.stores } : {}),
        // The mount process must outlive this daemon, like the VM using it (re-adoption).
        persist: true,
        ...(this.o.standby ? { standby: true } : {}),
      };
      const handle = await mountFlist(options);
      await writeFile(meta, JSON.stringify({ flist, flistPath: handle.flistPath, pid: handle.pid }) + "\n");
      if (signal?.aborted) {
        await this.unmount(mountpoint);
        signal.throwIfAborted();
      }
      return this.#describe(mountpoint, handle.flistPath);
    } catch (e) {
      if (!this.isMounted(mountpoint)) await rm(local, { force: true });
      throw e;
    }
  }

  get #policy(): EgressPolicy {
    return this.o.policy ?? new EgressPolicy();
  }

  #describe(mountpoint: string, flistPath: string): MountedFlist {
    const reader = FlistReader.open(flistPath);
    try {
      return { mountpoint, flistPath, meta: readFlistMeta(flistPath), mode: flistBootMode(reader) };
    } finally {
      reader.close();
    }
  }

  /** Without configured stores the flist's own routes are fetched: each must pass the policy. */
  async #checkRoutes(flistPath: string): Promise<void> {
    if (this.o.stores && this.o.stores.length > 0) return;
    const reader = FlistReader.open(flistPath);
    let routes: string[];
    try {
      routes = reader.routes().map((r) => r.url);
    } finally {
      reader.close();
    }
    for (const r of routes) {
      if (!/^https?:\/\//.test(r)) throw new FlistRefusedError(`the flist's block route ${JSON.stringify(r.slice(0, 200))} is not an http(s) URL`, { hint: "publish the flist with http(s) routes (a hub)" });
      await this.#policy.resolve(r);
    }
  }

  /** True when a FUSE filesystem is mounted at `mountpoint` (from /proc/self/mountinfo). */
  isMounted(mountpoint: string): boolean {
    const mounts = readFileSync("/proc/self/mountinfo", "utf8");
    return mounts.split("\n").some((line) => line.split(" ")[4] === mountpoint);
  }

  /** The pid of the mount process serving `mountpoint` when it is alive (pidfile + its command line). */
  workerPid(mountpoint: string): number | undefined {
    let pid: number | undefined;
    try {
      pid = (JSON.parse(readFileSync(`${mountpoint}.json`, "utf8")) as { pid?: number }).pid;
    } catch {
      return undefined;
    }
    return pid && isProcessOf(pid, mountpoint) ? pid : undefined;
  }

  /** Cheap liveness (no file system call): the mount process serving `mountpoint` runs. */
  workerAlive(mountpoint: string): boolean {
    return this.workerPid(mountpoint) !== undefined;
  }

  /**
   * The real check: mounted, its process alive, and a read through it answers within `timeoutMs`
   * (a dead FUSE server leaves the mount answering ENOTCONN; a hung one does not answer).
   */
  async healthy(mountpoint: string, timeoutMs = 3_000): Promise<boolean> {
    if (!this.isMounted(mountpoint) || !this.workerAlive(mountpoint)) return false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    try {
      return await Promise.race([readdir(mountpoint).then(() => true, () => false), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Mounts the flist again at `mountpoint`, whose mount process died, without the path ever being
   * an empty directory: the new mount is made at `<mountpoint>.next` and moved on top of the dead
   * one (left shadowed under it until unmount). Why: a VM reading its root through this path keeps
   * names it found missing as missing (its overlay caches negative lookups), so an empty moment
   * would hide files for good; a dead mount answers ENOTCONN, which nothing caches. Returns false,
   * leaving nothing behind, when the kernel refuses the move (a shared parent mount, as systemd
   * sets up): the caller then boots the VM again on a fresh mount.
   *
   * @example
   * ```ts
   * if (!(await mounts.remountInPlace(url, "/var/lib/zos/mnt/7-12-vm/root"))) await restartVm();
   * ```
   */
  async remountInPlace(flist: string, mountpoint: string, signal?: AbortSignal): Promise<boolean> {
    const next = `${mountpoint}.next`;
    await this.unmount(next); // an interrupted repair's leftovers
    await this.mount(flist, next, signal);
    const moved = spawnSync("mount", ["--move", next, mountpoint], { stdio: "ignore" });
    if (moved.status !== 0) {
      await this.unmount(next);
      return false;
    }
    // the side files follow the mount (the worker keeps its open descriptors)
    const meta = JSON.parse(await readFile(`${next}.json`, "utf8")) as { flistPath?: string };
    for (const ext of [".fl", ".log"]) await rename(`${next}${ext}`, `${mountpoint}${ext}`).catch(() => undefined);
    await writeFile(`${mountpoint}.json`, JSON.stringify({ ...meta, flistPath: meta.flistPath === `${next}.fl` ? `${mountpoint}.fl` : meta.flistPath }) + "\n");
    await rm(`${next}.json`, { force: true });
    await rmdir(next).catch(() => undefined);
    return true;
  }

  /** Stops the mount process and lazily unmounts (every stacked mount); harmless when nothing is mounted. */
  async unmount(mountpoint: string): Promise<void> {
    const meta = `${mountpoint}.json`;
    // the recorded worker, and any other serving this mountpoint: a daemon killed between spawning
    // a detached worker and recording its pid leaves one that only its command line names (a
    // remountInPlace worker's names `<mountpoint>.next`)
    const pids = new Set([this.workerPid(mountpoint), ...workersServing(mountpoint), ...workersServing(`${mountpoint}.next`)].filter((p): p is number => p !== undefined));
    for (const pid of pids) {
      process.kill(pid, "SIGTERM");
      for (let i = 0; i < 50 && isProcessOf(pid, mountpoint); i++) await new Promise((r) => setTimeout(r, 100));
      if (isProcessOf(pid, mountpoint)) process.kill(pid, "SIGKILL");
    }
    for (let i = 0; i < 4 && (i === 0 || this.isMounted(mountpoint)); i++) lazyUnmount(mountpoint); // a remount stacks two
    await rm(meta, { force: true });
    await rm(`${mountpoint}.log`, { force: true });
    await rm(`${mountpoint}.fl`, { force: true });
    // a download cut by a kill leaves its part file (egress-fetch writes `<file>.part-<pid>-<rand>`):
    // it would keep the share dir from ever being removed
    const part = `${basename(mountpoint)}.fl.part-`;
    for (const f of await readdir(dirname(mountpoint)).catch(() => [])) if (f.startsWith(part)) await rm(join(dirname(mountpoint), f), { force: true });
    await rmdir(mountpoint).catch(() => undefined);
  }
}

/** Live mount workers whose command line names `mountpoint` (their JSON options hold it). */
function workersServing(mountpoint: string): number[] {
  const marker = JSON.stringify({ mountpoint }).slice(1, -1); // "mountpoint":"<path>"
  return readdirSync("/proc").filter((p) => /^\d+$/.test(p)).map(Number)
    .filter((pid) => pid !== process.pid && isProcessOf(pid, marker));
}

/** A live, non-zombie process whose command line mentions `marker`. */
function isProcessOf(pid: number, marker: string): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    if (/^[ZX]$/.test(stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3))) return false;
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(marker);
  } catch {
    return false;
  }
}
