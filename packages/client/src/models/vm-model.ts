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
import { BaseError, WORKLOAD_NAME, parseRestart } from "@zgrid/types";
import { InputError } from "../errors/client-errors.ts";
import { placementSchema } from "../nodes/placement.ts";
import { commandWords, MAX_WORD, MAX_WORDS } from "./command-words.ts";

const MiB = 1024 ** 2;
const name = z.string().regex(WORKLOAD_NAME, "letters, digits and _ only, at most 36");

export const diskModelSchema = z.strictObject({
  name,
  size: z.number().int().min(1).describe("MiB"),
  mountpoint: z.string().startsWith("/"),
});

/** A command: JSON array, array, or shell words with quoting (see command-words.ts); output: argv. */
export const commandSchema = z.union([z.string().max(MAX_WORDS * MAX_WORD), z.array(z.string()).max(MAX_WORDS)]).transform((v, ctx) => {
  try {
    return commandWords(v);
  } catch (e) {
    ctx.addIssue({ code: "custom", message: e instanceof BaseError ? e.shortMessage : String(e) });
    return z.NEVER;
  }
});

export const vmModelSchema = z.strictObject({
  name,
  /** A node id; without it the node finder picks one (filters below). */
  node: z.number().int().min(1).optional(),
  farm: z.number().int().min(1).optional(),
  country: z.string().optional(),
  /** Without `node`: `pack` (default, the fullest node that fits: a green farm) or `spread` (the emptiest). */
  placement: placementSchema.optional(),
  flist: z.url(),
  cpu: z.number().int().min(1).max(32).default(1),
  /** MiB. */
  memory: z.number().int().min(250).default(256),
  /** Root filesystem MiB (0 = memory-backed). */
  rootfs: z.number().int().min(0).default(0),
  disks: z.array(diskModelSchema).default([]),
  env: z.record(z.string(), z.string()).default({}),
  ssh_key: z.string().optional(),
  /** Replaces the image's Entrypoint (argv; empty: the image's). Shell words or a JSON array in. */
  entrypoint: commandSchema.default([]),
  /** Replaces the image's Cmd (the arguments after the entrypoint); absent: the image's. */
  cmd: commandSchema.optional(),
  /** Working directory of the app (default: the image's WorkingDir). */
  workdir: z.string().startsWith("/").max(4096).optional(),
  /** `name`, `uid`, `name:group` or `uid:gid` in the image (default: the image's User). */
  user: z.string().min(1).max(256).optional(),
  /** Docker's restart policies: no, always, unless-stopped, on-failure[:N]. */
  restart: z.string().regex(/^(no|always|unless-stopped|on-failure(:\d{1,4})?)$/, "no, always, unless-stopped or on-failure[:N]").optional(),
  /** Docker's HEALTHCHECK: test ["CMD", …] | ["CMD-SHELL", "…"] | ["NONE"]; times in seconds. */
  healthcheck: z.strictObject({
    test: z.array(z.string()).min(1).max(256),
    interval: z.number().min(0).default(30),
    timeout: z.number().min(0).default(30),
    retries: z.number().int().min(0).default(3),
    start_period: z.number().min(0).default(0),
  }).optional(),
  /** Signal that stops the app (default SIGTERM). */
  stop_signal: z.string().regex(/^(SIG)?[A-Z0-9+-]{1,12}$|^\d{1,2}$/, "a signal name like SIGTERM or a number").optional(),
  /** A public IPv4 from the farm's IPs (reserved on the node contract). */
  public_ip: z.boolean().default(false),
  /** A public IPv6 from the node's v6 range (the farm's; the node refuses when it has none). */
  public_ip6: z.boolean().default(false),
  network: name.default("default"),
});
export type VmModel = z.output<typeof vmModelSchema>;
export type VmModelInput = z.input<typeof vmModelSchema>;

export function vmNeeds(vm: VmModel): { cru: number; mru: number; sru: number; hru: number } {
  return { cru: vm.cpu, mru: vm.memory * MiB, sru: (vm.rootfs + vm.disks.reduce((s, d) => s + d.size, 0)) * MiB, hru: 0 };
}

/** Name of the `ip` workload of a VM with a public IP. */
export const publicIpName = (vm: { name: string }) => `${vm.name}_ip`.slice(0, 36);

/** The VM asks for a public address (v4, v6 or both): it gets an `ip` workload. */
export const hasPublicIp = (vm: Pick<VmModel, "public_ip" | "public_ip6">): boolean => vm.public_ip || vm.public_ip6;

export function vmWorkloads(vm: VmModel, ip: string): unknown[] {
  const env = { ...vm.env, ...(vm.ssh_key ? { SSH_KEY: vm.ssh_key } : {}) };
  return [
    ...vm.disks.map((d) => ({ version: 0, name: d.name, type: "zmount", data: { size: d.size * MiB } })),
    // v4 only keeps the workload (and the deployment hash) of VMs made before public_ip6 existed.
    ...(hasPublicIp(vm) ? [{ version: 0, name: publicIpName(vm), type: "ip", data: vm.public_ip6 ? { v4: vm.public_ip, v6: true } : { v4: true } }] : []),
    {
      version: 0, name: vm.name, type: "zmachine", data: {
        flist: vm.flist, network: { interfaces: [{ network: vm.network, ip }], ...(hasPublicIp(vm) ? { public_ip: publicIpName(vm) } : {}) }, size: vm.rootfs * MiB,
        compute_capacity: { cpu: vm.cpu, memory: vm.memory * MiB }, mounts: vm.disks.map((d) => ({ name: d.name, mountpoint: d.mountpoint })),
        ...imageWire(vm), env,
      },
    },
  ];
}

/**
 * The zmachine's image fields (exec form): entrypoint and cmd as argv, workdir, user, restart,
 * healthcheck, stop signal; absent ones take the image's. An empty entrypoint stays "" (the image's)
 * so VMs without these fields keep the hash they always had.
 */
function imageWire(vm: VmModel): Record<string, unknown> {
  let restart: ReturnType<typeof parseRestart> | undefined;
  if (vm.restart) {
    try {
      restart = parseRestart(vm.restart);
    } catch (e) {
      throw new InputError(`vm '${vm.name}': ${(e as Error).message}`);
    }
  }
  const h = vm.healthcheck;
  return {
    entrypoint: vm.entrypoint.length ? vm.entrypoint : "",
    ...(vm.cmd ? { cmd: vm.cmd } : {}),
    ...(vm.workdir ? { workdir: vm.workdir } : {}),
    ...(vm.user ? { user: vm.user } : {}),
    ...(restart ? { restart } : {}),
    ...(h ? { healthcheck: { test: h.test, intervalSec: Math.max(1, h.interval), timeoutSec: Math.max(1, h.timeout), retries: Math.max(1, h.retries), startPeriodSec: h.start_period } } : {}),
    ...(vm.stop_signal ? { stopSignal: vm.stop_signal } : {}),
  };
}
