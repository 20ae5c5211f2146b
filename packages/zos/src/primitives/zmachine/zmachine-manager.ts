/**
 * zmachine: a micro VM from an flist (DESIGN.md "zmachine on a node"). The flist is mounted lazily
 * and verified (FlistMounts); the mode follows its content: `/image.raw` -> full VM (the image
 * copied to the VM's disk, booted with firmware); otherwise container mode: zgrid's guest kernel
 * boots the flist as a read-only 9p root under a copy-on-write overlay on a root disk of `size`.
 * The VM joins the network's bridge with its IP and the subnet's gateway; zmounts attach at their
 * mountpoints; SSH_KEY from env is installed for root; entrypoint and env from the workload, else
 * the flist's startup file.
 *
 * @example
 * ```ts
 * const manager = zmachineManager({ paths, hypervisor, flists });
 * await manager.provision(ctx, w); // { id: "7-12-vm", ip: "10.20.2.5", console: "/…/console.log", mode: "container" }
 * ```
 */
import { mkdir, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { FlistReader } from "@zgrid/flist";
import { MiB, minRootSize, resolveArgv, signalNumber, type Healthcheck, type WorkloadOf } from "@zgrid/types";
import { imageDefaults } from "./image-defaults.ts";
import type { Hypervisor } from "../../hypervisor/hypervisor.ts";
import type { VmSpecInput } from "../../hypervisor/vm-spec.ts";
import { zmachineHealth, type HealthState } from "../../hypervisor/vm-health.ts";
import type { WorkloadContext, WorkloadManager } from "../../engine/workload-manager.ts";
import type { NetworkResult } from "../network/network-manager.ts";
import type { NodePaths } from "../node-paths.ts";
import type { DiskResult } from "../zmount/zmount-manager.ts";
import type { IpResult } from "../ip/ip-manager.ts";
import type { FlistMounts, MountedFlist } from "./flist-mounts.ts";
import { ensureExt4Disk } from "../../hypervisor/disk.ts";
import { copyImage } from "./copy-image.ts";
import { resolveInFlist } from "./flist-path.ts";
import { verifyMountedFlist } from "./verify-mounted-flist.ts";

/** Images up to this size are read (and so verified) entirely before the VM boots. */
const VERIFY_WHOLE_BYTES = 64 * 1024 * 1024;

export interface ZmachineDeps {
  paths: NodePaths;
  hypervisor: Hypervisor;
  flists: FlistMounts;
  /** A network of the deployment's twin on this node (own deployment or a sharable one). */
  findNetwork(ctx: WorkloadContext, name: string): NetworkResult | undefined;
}

import type { ZmachineResult } from "@zgrid/types";
export type { ZmachineResult };

type ZMachine = WorkloadOf<"zmachine">;

export function zmachineManager(deps: ZmachineDeps): WorkloadManager<ZMachine> {
  /** The VM's flist mountpoint: a VM started before the share layout keeps its own (from its spec). */
  const mountpoint = async (ctx: WorkloadContext) => {
    const spec = await deps.hypervisor.spec(ctx.workloadId).catch(() => undefined);
    return spec?.mode === "container" && spec.rootShare && !spec.rootShareSubdir ? spec.rootShare : deps.paths.flistMount(ctx.workloadId);
  };
  /** Both layouts' mounts and their workers; the legacy pass also removes the then empty share dir. */
  const unmountAll = async (ctx: WorkloadContext) => {
    await deps.flists.unmount(deps.paths.flistMount(ctx.workloadId));
    await deps.flists.unmount(deps.paths.legacyFlistMount(ctx.workloadId));
  };
  const stop = async (ctx: WorkloadContext) => {
    // also when the VM is not listed (its state dir lost spec.json to a kill): delete cleans up that too
    await deps.hypervisor.delete(ctx.workloadId);
    await unmountAll(ctx);
    await rm(deps.paths.vmDir(ctx.workloadId), { recursive: true, force: true });
  };
  /** A live QEMU (pid + QMP) whose root share (container mode) is mounted and readable. */
  const liveAndWhole = async (ctx: WorkloadContext) => {
    const status = await deps.hypervisor.status(ctx.workloadId).catch(() => undefined);
    if (!status || (status.state !== "running" && status.state !== "paused")) return { status, whole: false };
    const full = (await deps.hypervisor.spec(ctx.workloadId)).mode === "full";
    return { status, whole: full || (await deps.flists.healthy(await mountpoint(ctx))) };
  };
  /**
   * The VM runs but its flist mount process died: mount the flist again at the same path. The VM's
   * 9p share is the directory holding that mountpoint and QEMU walks every new lookup by path from
   * it, so the running guest reads through the new mount (files it held open through the dead one
   * answer EIO until reopened; its page cache still serves what it read). A VM started before that
   * layout exports the mountpoint itself, whose dead root QEMU holds open: it is booted again on
   * the new mount (disks kept) — a platform restart, not an app failure.
   */
  const repairShare = async (ctx: WorkloadContext, w: ZMachine, paused: boolean) => {
    const mp = await mountpoint(ctx);
    if ((await deps.hypervisor.spec(ctx.workloadId)).rootShareSubdir) {
      if (await deps.flists.remountInPlace(w.data.flist, mp)) {
        ctx.log.warn({ mountpoint: mp }, "flist mount process gone under a running VM: mounted again in place (the VM keeps running)");
        return;
      }
      ctx.log.warn({ mountpoint: mp }, "flist mount process gone; the mount cannot be moved in place here (shared mount propagation): restarting the VM on a new mount");
    } else {
      ctx.log.warn({ mountpoint: mp }, "flist mount process gone under a running VM started before the share layout: re-mounting it and restarting the VM");
    }
    await deps.hypervisor.stop(ctx.workloadId);
    await deps.flists.unmount(mp);
    await deps.flists.mount(w.data.flist, mp);
    await deps.hypervisor.start({ id: ctx.workloadId });
    if (paused) await deps.hypervisor.pause(ctx.workloadId);
  };
  return {
    async provision(ctx, w) {
      const nic = w.data.network.interfaces[0];
      if (!nic) throw new Error("zmachine has no network interface");
      const { status, whole } = await liveAndWhole(ctx);
      if (status && whole) return { id: ctx.workloadId, ip: nic.ip, mode: modeOf(await deps.hypervisor.spec(ctx.workloadId)), console: status.consoleLog, ...healthOf(status) } satisfies ZmachineResult;
      // Whatever of an earlier instance is left (a QEMU on a dead share, a QEMU not answering
      // QMP, a mount without a VM) is stopped first, always, before anything new starts. Its
      // disks stay: the root disk (the container's writable layer) is booted again.
      if ((await deps.hypervisor.list()).includes(ctx.workloadId)) await deps.hypervisor.stop(ctx.workloadId);
      await unmountAll(ctx);
      const net = deps.findNetwork(ctx, nic.network);
      if (!net) throw new Error(`network '${nic.network}' is not ready on this node`);
      // The container root disk (mkfs.ext4) needs neither the flist mount nor its pre-boot read:
      // it is made meanwhile, off the critical path. Settled before anything is removed on failure.
      const rootDisk = rootDiskPath(deps, ctx);
      const disk = ensureExt4Disk(rootDisk, rootSize(w)).then(() => undefined, (e: unknown) => e);
      const failed = async (e: unknown): Promise<never> => {
        await disk;
        await stop(ctx).catch(() => undefined);
        throw e;
      };
      let mounted: MountedFlist;
      try {
        mounted = await deps.flists.mount(w.data.flist, deps.paths.flistMount(ctx.workloadId), ctx.signal);
      } catch (e) {
        return failed(new Error(`flist ${w.data.flist} refused: ${e instanceof Error ? e.message : String(e)}`, { cause: e }));
      }
      try {
        const spec = await vmSpec(ctx, w, net, mounted, deps);
        const entry = spec.mode === "container" && spec.entrypoint?.[0]?.startsWith("/") ? [inFlist(mounted, spec.entrypoint[0])?.path ?? "/"] : [];
        await verifyMountedFlist(mounted.mountpoint, mounted.meta.bytes <= VERIFY_WHOLE_BYTES ? "all" : entry).catch((e: unknown) => {
          throw new Error(`flist ${w.data.flist} refused: ${e instanceof Error ? e.message : String(e)}`);
        });
        const diskError = await disk;
        if (diskError) throw new Error(`root disk of ${ctx.workloadId} could not be made: ${diskError instanceof Error ? diskError.message : String(diskError)}`, { cause: diskError });
        if (spec.mode !== "container") await rm(rootDisk, { force: true }); // a full VM boots its image's copy
        ctx.signal?.throwIfAborted();
        const started = await deps.hypervisor.start(spec);
        ctx.log.info({ mode: spec.mode, ip: nic.ip }, "zmachine started");
        return { id: ctx.workloadId, ip: nic.ip, mode: spec.mode === "full" ? "full" : "container", console: started.consoleLog, ...healthOf(started) } satisfies ZmachineResult;
      } catch (e) {
        return failed(e);
      }
    },
    async deprovision(ctx) {
      await stop(ctx);
    },
    async pause(ctx) {
      await deps.hypervisor.pause(ctx.workloadId);
    },
    async resume(ctx) {
      await deps.hypervisor.resume(ctx.workloadId);
    },
    async adopt(ctx, w) {
      const status = await deps.hypervisor.status(ctx.workloadId).catch(() => undefined);
      if (status?.failure && status.desired !== "running") throw new Error(status.failure); // the VM monitor gave up: why
      if (status?.held && status.state === "stopped") return true; // stopped by its owner (vm stop): stays so
      const live = await liveAndWhole(ctx);
      if (!live.status || (live.status.state !== "running" && live.status.state !== "paused")) return false;
      if (live.whole) return true;
      try {
        await repairShare(ctx, w, live.status.state === "paused");
        return true;
      } catch (e) {
        ctx.log.warn({ err: e }, "repairing the flist share failed: re-provisioning");
        return false;
      }
    },
    async alive(ctx) {
      const status = await deps.hypervisor.status(ctx.workloadId).catch(() => undefined);
      // No QEMU: while it should run, the VM monitor restarts it; else (gave up, or gone) reconcile.
      if (!status?.pid) return status?.desired === "running" || status?.held === true;
      return (await deps.hypervisor.spec(ctx.workloadId)).mode === "full" || deps.flists.workerAlive(await mountpoint(ctx));
    },
  };
}

/** The container root disk (the overlay's writable layer) of this VM. */
function rootDiskPath(deps: ZmachineDeps, ctx: WorkloadContext): string {
  return join(deps.paths.vmDir(ctx.workloadId), "root.img");
}

function rootSize(w: ZMachine): number {
  return w.data.size || minRootSize(w.data.compute_capacity.cpu, w.data.compute_capacity.memory);
}

/** The health part of the result (VMs with a health check; the VM monitor updates it as checks run). */
function healthOf(status: { health?: HealthState }): Pick<ZmachineResult, "health"> {
  return status.health ? { health: zmachineHealth(status.health) } : {};
}

function modeOf(spec: { mode: string }): "container" | "full" {
  return spec.mode === "full" ? "full" : "container";
}

async function vmSpec(ctx: WorkloadContext, w: ZMachine, net: NetworkResult, flist: MountedFlist, deps: ZmachineDeps): Promise<VmSpecInput> {
  const { cpu, memory } = w.data.compute_capacity;
  const vmDir = deps.paths.vmDir(ctx.workloadId);
  await mkdir(vmDir, { recursive: true });
  const disks = w.data.mounts.map((m) => {
    const disk = ctx.resultOf(m.name) as DiskResult | undefined;
    if (!disk?.path) throw new Error(`disk '${m.name}' is not ready`);
    return { path: disk.path, mountpoint: m.mountpoint, sizeBytes: disk.size, keep: true };
  });
  const startup = flist.meta.startup;
  const env: Record<string, string> = { ...(startup?.env ?? {}), ...w.data.env };
  const sshKeys = (w.data.env.SSH_KEY ?? "").split("\n").map((k) => k.trim()).filter(Boolean);
  const base = {
    id: ctx.workloadId,
    cpu,
    memoryMiB: Math.floor(memory / MiB),
    disks,
    ...vmNetworks(ctx, w, net),
    hostname: w.name.replace(/_/g, "-").replace(/^-+/, "").slice(0, 63) || "zmachine",
    env,
    sshKeys,
  };
  const size = rootSize(w);
  if (flist.mode === "image") {
    // Full VM: the image is copied onto the VM's own disk, so the flist stays read-only. The
    // listing says /image.raw is a regular file; O_NOFOLLOW makes sure no link is followed.
    const disk = join(vmDir, "image.img");
    await copyImage(join(flist.mountpoint, "image.raw"), disk, ctx.signal);
    return { ...base, mode: "full", rootDisk: { path: disk, sizeBytes: size } } as VmSpecInput;
  }
  const image = imageDefaults(startup);
  const entrypoint = resolveArgv(w.data, image);
  const argv0 = entrypoint[0] ?? "/sbin/init";
  if (argv0.startsWith("/") && inFlist(flist, argv0)?.type !== "file" && !(entrypoint.length === 0 && inFlist(flist, "/bin/sh")?.type === "file")) {
    throw new Error(entrypoint.length === 0
      ? "the image has no entrypoint: set the zmachine's entrypoint (the flist has no startup file, /sbin/init or /bin/sh)"
      : `entrypoint ${argv0} is not a file in the flist`);
  }
  return {
    // the share is the mountpoint's own directory (node-paths flistShare): see repairShare
    ...base, mode: "container", rootShare: dirname(flist.mountpoint), rootShareSubdir: basename(flist.mountpoint), rootDisk: { path: rootDiskPath(deps, ctx), sizeBytes: size }, entrypoint,
    workdir: w.data.workdir ?? image.dir ?? "/",
    user: w.data.user ?? image.user ?? "",
    stopSignal: signalNumber(w.data.stopSignal ?? image.stopSignal ?? "SIGTERM") ?? 15,
    restart: w.data.restart ?? { policy: "no" },
    ...healthcheckOf(w.data.healthcheck ?? image.healthcheck),
  };
}

/** Docker's test forms: ["CMD", argv…] runs argv, ["CMD-SHELL", cmd] runs `/bin/sh -c cmd`, ["NONE"] none. */
function healthcheckOf(h: Healthcheck | undefined): Pick<VmSpecInput, "healthcheck"> {
  if (!h || h.test.length === 0 || h.test[0] === "NONE") return {};
  const test = h.test[0] === "CMD-SHELL" ? ["/bin/sh", "-c", h.test.slice(1).join(" ")] : h.test[0] === "CMD" ? h.test.slice(1) : h.test;
  if (test.length === 0) return {};
  const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));
  return { healthcheck: {
    test, intervalSec: clamp(h.intervalSec || 30, 1, 86_400), timeoutSec: clamp(h.timeoutSec || 30, 1, 600),
    retries: clamp(h.retries || 3, 1, 100), startPeriodSec: clamp(h.startPeriodSec, 0, 86_400),
  } };
}

/**
 * The VM's NICs: the private network first; with a public IP a second NIC on the node's public
 * bridge holding the address, whose farm gateway becomes the default route (the private network's
 * whole range stays routed through the first NIC).
 */
function vmNetworks(ctx: WorkloadContext, w: ZMachine, net: NetworkResult): Pick<VmSpecInput, "network" | "extraNetworks"> {
  const ip = `${w.data.network.interfaces[0]!.ip}/${net.prefix}`;
  const pubName = w.data.network.public_ip;
  if (!pubName) return { network: { bridge: net.bridge, ip, gateway: net.gateway } };
  const pub = ctx.resultOf(pubName) as IpResult | undefined;
  if (!pub?.bridge) throw new Error(`public ip '${pubName}' is not ready`);
  const v4 = pub.ip !== "";
  return {
    network: { bridge: net.bridge, ip, ...(v4 ? { routes: [{ dst: net.ip_range, via: net.gateway }] } : { gateway: net.gateway }) },
    extraNetworks: [{
      bridge: pub.bridge, ...(v4 ? { ip: pub.ip, gateway: pub.gateway } : {}),
      ...(pub.ip6 ? { ip6: pub.ip6, ...(pub.gateway6 ? { gateway6: pub.gateway6 } : {}) } : {}),
    }],
  };
}

/** `path` resolved in the flist's listing (never on the host); throws when it leaves the root. */
function inFlist(flist: MountedFlist, path: string): ReturnType<typeof resolveInFlist> {
  const reader = FlistReader.open(flist.flistPath);
  try {
    return resolveInFlist(reader, path);
  } finally {
    reader.close();
  }
}
