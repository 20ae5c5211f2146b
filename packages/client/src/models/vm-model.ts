/**
 * The VM model users write (CLI flags, SDK calls, spec files) and its translation into zmachine,
 * zmount workloads. Sizes are MiB, so a spec reads `memory: 512`.
 *
 * @example
 * ```ts
 * const vm = vmModelSchema.parse({ name: "web", flist: "http://hub/flists/0xabc/busybox.fl", memory: 256 });
 * const workloads = vmWorkloads(vm, "10.20.3.2");
 * ```
 */
import { z } from "zod";
import { WORKLOAD_NAME } from "@zgrid/types";

const MiB = 1024 ** 2;
const name = z.string().regex(WORKLOAD_NAME, "letters, digits and _ only, at most 36");

export const diskModelSchema = z.strictObject({
  name,
  size: z.number().int().min(1).describe("MiB"),
  mountpoint: z.string().startsWith("/"),
});

export const vmModelSchema = z.strictObject({
  name,
  /** A node id; without it the node finder picks one (filters below). */
  node: z.number().int().min(1).optional(),
  farm: z.number().int().min(1).optional(),
  country: z.string().optional(),
  flist: z.url(),
  cpu: z.number().int().min(1).max(32).default(1),
  /** MiB. */
  memory: z.number().int().min(250).default(256),
  /** Root filesystem MiB (0 = memory-backed). */
  rootfs: z.number().int().min(0).default(0),
  disks: z.array(diskModelSchema).default([]),
  env: z.record(z.string(), z.string()).default({}),
  ssh_key: z.string().optional(),
  entrypoint: z.string().default(""),
  public_ip: z.boolean().default(false),
  network: name.default("default"),
});
export type VmModel = z.output<typeof vmModelSchema>;
export type VmModelInput = z.input<typeof vmModelSchema>;

export function vmNeeds(vm: VmModel): { cru: number; mru: number; sru: number; hru: number } {
  return { cru: vm.cpu, mru: vm.memory * MiB, sru: (vm.rootfs + vm.disks.reduce((s, d) => s + d.size, 0)) * MiB, hru: 0 };
}

/** Name of the `ip` workload of a VM with a public IP. */
export const publicIpName = (vm: { name: string }) => `${vm.name}_ip`.slice(0, 36);

export function vmWorkloads(vm: VmModel, ip: string): unknown[] {
  const env = { ...vm.env, ...(vm.ssh_key ? { SSH_KEY: vm.ssh_key } : {}) };
  return [
    ...vm.disks.map((d) => ({ version: 0, name: d.name, type: "zmount", data: { size: d.size * MiB } })),
    ...(vm.public_ip ? [{ version: 0, name: publicIpName(vm), type: "ip", data: { v4: true } }] : []),
    {
      version: 0, name: vm.name, type: "zmachine", data: {
        flist: vm.flist, network: { interfaces: [{ network: vm.network, ip }], ...(vm.public_ip ? { public_ip: publicIpName(vm) } : {}) }, size: vm.rootfs * MiB,
        compute_capacity: { cpu: vm.cpu, memory: vm.memory * MiB }, mounts: vm.disks.map((d) => ({ name: d.name, mountpoint: d.mountpoint })),
        entrypoint: vm.entrypoint, env,
      },
    },
  ];
}
