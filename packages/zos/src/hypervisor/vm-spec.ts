/**
 * The typed VM spec the hypervisor boots, validated with zod. Container mode: a read-only root
 * directory (later a FUSE-mounted flist) shared over virtio-9p as the overlay lower layer, a root
 * disk as the writable upper layer, extra ext4 disks (zmounts) at mountpoints, optional network.
 *
 * @example
 * ```ts
 * const spec = parseVmSpec({ id: "vm1", cpu: 1, memoryMiB: 256, rootShare: "/srv/flist/ubuntu",
 *   rootDisk: { path: "/var/zos/vm1/root.img", sizeBytes: 1 << 30 }, disks: [], hostname: "vm1",
 *   env: { FOO: "1" }, entrypoint: ["/bin/sh", "/start.sh"], sshKeys: [] });
 * ```
 */
import { z } from "zod";
import { VmSpecError } from "./errors.ts";

const absPath = z.string().regex(/^\/[^\s'"\\:]*$/, "absolute path without whitespace, quotes, backslash or colon");
const ipv4Cidr = z.string().regex(/^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/, "IPv4 address with prefix, e.g. 10.1.0.2/24");
const ipv4 = z.string().regex(/^(\d{1,3}\.){3}\d{1,3}$/, "IPv4 address");
const ipv6 = z.string().regex(/^[0-9a-fA-F:]{2,39}$/, "IPv6 address");
const ipv6Cidr = z.string().regex(/^[0-9a-fA-F:]{2,39}\/\d{1,3}$/, "IPv6 address with prefix, e.g. fd85:69::10/64");

export const vmDiskSchema = z.object({
  /** Raw image on the host; created sparse and formatted ext4 only when it does not exist yet. */
  path: absPath,
  /** Where the guest mounts it (absolute, inside the VM root). */
  mountpoint: absPath,
  /** Size for a new disk; an existing disk is never resized nor reformatted. */
  sizeBytes: z.number().int().positive(),
  /** Keep the file when the VM is deleted (zmounts outlive their VM). */
  keep: z.boolean().default(false),
});

export const vmNetworkSchema = z.object({
  /** Host bridge the tap is attached to (must exist). */
  bridge: z.string().regex(/^[A-Za-z0-9_.-]{1,15}$/),
  /** Tap name; derived from the VM id when omitted (see tapNameFor). */
  tap: z.string().regex(/^[A-Za-z0-9_.-]{1,15}$/).optional(),
  /** Guest MAC; derived from the VM id when omitted. */
  mac: z.string().regex(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i).optional(),
  /** IPv4 with prefix; omitted on an IPv6-only NIC. */
  ip: ipv4Cidr.optional(),
  gateway: ipv4.optional(),
  dns: z.array(ipv4).default([]),
  /** An IPv6 address on the NIC and (on one NIC) the IPv6 default gateway. */
  ip6: ipv6Cidr.optional(),
  gateway6: ipv6.optional(),
  /** More IPv4 routes through this NIC (e.g. the private network's range when the default route is public). */
  routes: z.array(z.strictObject({ dst: ipv4Cidr, via: ipv4 })).max(16).default([]),
});

/** Own-kernel mode: the kernel (ELF vmlinux via PVH, or bzImage) and initrd shipped with the image. */
export const vmBootSchema = z.object({
  kernel: absPath,
  initrd: absPath.optional(),
  /** Appended after `console=ttyS0 panic=1 tsc_early_khz=…`; default `root=/dev/vda rw`. */
  cmdline: z.string().regex(/^[^\n]*$/).default(""),
});

export const vmSpecSchema = z.object({
  /**
   * container: zgrid's guest kernel boots `rootShare` (overlay over `rootDisk`) on -M microvm.
   * kernel: `boot.kernel`/`boot.initrd` on -M microvm, `rootDisk` is the existing raw image (vda).
   * full: firmware (SeaBIOS, -M q35) boots the existing raw image `rootDisk`.
   */
  mode: z.enum(["container", "kernel", "full"]).default("container"),
  boot: vmBootSchema.optional(),
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, "1-63 chars of [A-Za-z0-9_.-]"),
  cpu: z.number().int().min(1).max(64).default(1),
  memoryMiB: z.number().int().min(64).default(256),
  /** Host directory with the root filesystem (read-only lower layer); container mode only. */
  rootShare: absPath.optional(),
  /**
   * The root is this subdirectory of `rootShare` (one name). The share is then a directory of the
   * VM's own holding only the root's mountpoint: QEMU's 9p resolves every new walk by path from the
   * share, so a flist mount that died can be mounted again at `rootShare/<subdir>` while the VM runs
   * (issue 13: repair in place). Absent: `rootShare` itself is the root (VMs started before).
   */
  rootShareSubdir: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, "one directory name").optional(),
  /**
   * container: writable upper layer (created ext4 if missing; omitted: tmpfs upper, nothing persists).
   * kernel/full: the bootable raw image; must exist; grown (sparse) to sizeBytes if smaller.
   */
  rootDisk: z.object({ path: absPath, sizeBytes: z.number().int().positive(), keep: z.boolean().default(false) }).optional(),
  disks: z.array(vmDiskSchema).max(16).default([]),
  network: vmNetworkSchema.optional(),
  /** More NICs (eth1… in cloud-init terms); only one network should carry a gateway. */
  extraNetworks: z.array(vmNetworkSchema).max(7).default([]),
  hostname: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,62}$/).default("zgrid"),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "env key"), z.string()).default({}),
  /** argv of the entrypoint inside the root; empty: /sbin/init, else /bin/sh. */
  entrypoint: z.array(z.string()).default([]),
  /** Working directory of the entrypoint inside the root (container mode). */
  workdir: z.string().regex(/^\/[^\0\n]*$/).default("/"),
  /** User the entrypoint runs as: name|uid[:group|gid], resolved in the root's /etc/passwd; empty: root. */
  user: z.string().regex(/^[^\0\n\s]*$/).default(""),
  /** Signal number that asks the app to stop. */
  stopSignal: z.number().int().min(1).max(64).default(15),
  /**
   * What the VM monitor does when the app ends (Docker's restart policies). Absent: the policy of
   * zgrid before issue 15 (restarted, given up after `maxFailures` quick failures in a row).
   */
  restart: z.object({ policy: z.enum(["no", "on-failure", "always", "unless-stopped"]), maxRetries: z.number().int().min(0).optional() }).optional(),
  /**
   * Docker's HEALTHCHECK, run in the guest by the VM monitor through the guest agent (container
   * mode): `test` is the argv (CMD-SHELL already turned into `/bin/sh -c …`).
   */
  healthcheck: z.object({
    test: z.array(z.string().max(8192)).min(1).max(256),
    intervalSec: z.number().min(1).max(86_400).default(30),
    timeoutSec: z.number().min(1).max(600).default(30),
    retries: z.number().int().min(1).max(100).default(3),
    startPeriodSec: z.number().min(0).max(86_400).default(0),
  }).optional(),
  sshKeys: z.array(z.string().regex(/^[^\n]+$/)).default([]),
});

export type VmSpec = z.output<typeof vmSpecSchema>;
export type VmSpecInput = z.input<typeof vmSpecSchema>;
export type VmDisk = z.output<typeof vmDiskSchema>;
export type VmNetwork = z.output<typeof vmNetworkSchema>;
export type VmBoot = z.output<typeof vmBootSchema>;
export type VmMode = VmSpec["mode"];

/** Validates and fills defaults; throws VmSpecError listing every problem. */
export function parseVmSpec(input: unknown): VmSpec {
  const r = vmSpecSchema.safeParse(input);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new VmSpecError(`invalid VM spec: ${issues.join("; ")}`, { details: { issues } });
  }
  const spec = r.data;
  if (spec.mode === "container" && !spec.rootShare) throw new VmSpecError("container mode needs rootShare", { details: { id: spec.id } });
  if (spec.mode === "kernel" && !spec.boot) throw new VmSpecError("kernel mode needs boot.kernel", { details: { id: spec.id } });
  if (spec.mode !== "container" && !spec.rootDisk) throw new VmSpecError(`${spec.mode} mode needs rootDisk (the image)`, { details: { id: spec.id } });
  if (spec.extraNetworks.length > 0 && !spec.network) throw new VmSpecError("extraNetworks need network (the first NIC)", { details: { id: spec.id } });
  const mps = r.data.disks.map((d) => d.mountpoint);
  if (new Set(mps).size !== mps.length || mps.includes("/")) {
    throw new VmSpecError("disk mountpoints must be unique and not /", { details: { mountpoints: mps } });
  }
  return r.data;
}
