/**
 * zmachine: a micro VM booted from an flist (REFERENCE.md "Workload types").
 * Cross-workload rules (network, mounts, public_ip exist in the deployment) live in
 * deployment/validate-deployment.ts; this file checks what the data alone can tell.
 */
import { z } from "zod";
import { ZERO_CAPACITY } from "../capacity/capacity.ts";
import { computeUnits } from "../capacity/units.ts";
import { isIPv4 } from "../net/ip.ts";
import { ENV_NAME, WORKLOAD_NAME, byteSize, isCleanAbsolutePath } from "./common.ts";
import { MAX_CPU, MAX_MEMORY, MIN_MEMORY, MIN_ROOT_BIG, MIN_ROOT_SMALL } from "./limits.ts";
import { defineWorkloadType } from "./workload-type.ts";
import { challengeImageFields, imageFields, validateImageFields } from "./zmachine-image.ts";

/** What the hypervisor accepts as a mountpoint (vm-spec.ts in @zgrid/zos): no whitespace, quotes, backslash or colon. */
const MOUNTPOINT = /^\/[^\s'"\\:]*$/;

const schema = z.strictObject({
  flist: z.string().max(2048),
  network: z.strictObject({
    public_ip: z.string().default(""),
    planetary: z.boolean().default(false),
    mycelium: z.strictObject({ network: z.string(), hex_seed: z.string() }).optional(),
    interfaces: z.array(z.strictObject({ network: z.string(), ip: z.string() })).max(8),
  }),
  size: byteSize.default(0),
  compute_capacity: z.strictObject({ cpu: z.number().int(), memory: z.number().int() }),
  mounts: z.array(z.strictObject({ name: z.string(), mountpoint: z.string() })).max(64).default([]),
  ...imageFields,
  env: z.record(z.string(), z.string().max(65536)).default({}),
  corex: z.boolean().default(false),
  gpu: z.array(z.string().max(64)).max(8).default([]),
});

export type ZMachineData = z.infer<typeof schema>;

/** What the node reports for a running zmachine (`workload.result.data`). */
export interface ZmachineResult {
  /** The VM's id on the node (the workload id). */
  id: string;
  /** Its address on its first private network. */
  ip: string;
  mode: "container" | "full";
  /** Path of the console log on the node. */
  console: string;
  /**
   * The app's HEALTHCHECK (the image's or the workload's), run in the guest by the node (Docker's
   * rules): present only for a VM with a health check. Updated by the node when the status or the
   * failing streak changes (the streak of a long failure at most once every 30 s).
   */
  health?: ZmachineHealth;
}

/** Health of a zmachine's app as Docker reports a container's (`State.Health`). */
export interface ZmachineHealth {
  /** starting (no success yet since the VM's start), healthy (the last check passed), unhealthy (`retries` failures in a row). */
  status: "starting" | "healthy" | "unhealthy";
  /** Failed checks in a row. */
  failing_streak: number;
  /** Output of the last check (at most 4 KiB), or why it could not run. */
  last_output: string;
  /** When the last check ended (ms since epoch), 0 before the first. */
  at: number;
}

/**
 * Smallest root disk for a machine: 500 MiB up to 4 CU, 2 GiB above (REFERENCE.md).
 *
 * @example
 * ```ts
 * minRootSize(1, 2 * GiB); // 500 MiB
 * minRootSize(16, 32 * GiB); // 2 GiB
 * ```
 */
export function minRootSize(cpu: number, memory: number): number {
  return computeUnits({ cru: cpu, mru: memory }) <= 4 ? MIN_ROOT_SMALL : MIN_ROOT_BIG;
}

export const zmachine = defineWorkloadType<ZMachineData>({
  type: "zmachine",
  schema,
  // changed in place: the node restarts the VM with the new data, its disks (zmounts) kept
  updatable: true,
  validate(d, report) {
    if (!/^https?:\/\/[^\s/]+\/\S*$/.test(d.flist)) {
      report("flist", d.flist, "an http(s) URL of an flist, e.g. https://hub.example/twin/ubuntu.fl");
    }
    const { cpu, memory } = d.compute_capacity;
    if (cpu < 1 || cpu > MAX_CPU) report("compute_capacity.cpu", cpu, `an integer from 1 to ${MAX_CPU}`);
    if (memory < MIN_MEMORY || memory > MAX_MEMORY) {
      report("compute_capacity.memory", memory, `bytes from ${MIN_MEMORY} (250 MiB) to ${MAX_MEMORY} (1 TiB)`);
    }
    const minRoot = minRootSize(Math.max(cpu, 1), Math.max(memory, 0));
    if (d.size !== 0 && d.size < minRoot) {
      report("size", d.size, `0 (default root disk) or at least ${minRoot} bytes (${minRoot / (1024 * 1024)} MiB) for this machine`);
    }
    if (d.network.interfaces.length !== 1) {
      report("network.interfaces", d.network.interfaces.length, "exactly one interface on a private network");
    }
    d.network.interfaces.forEach((nic, i) => {
      if (!WORKLOAD_NAME.test(nic.network)) report(`network.interfaces.${i}.network`, nic.network, "the name of a network workload");
      if (!isIPv4(nic.ip)) report(`network.interfaces.${i}.ip`, nic.ip, "an IPv4 address in the node's subnet of the network");
      else if (/\.(0|1|255)$/.test(nic.ip)) {
        report(`network.interfaces.${i}.ip`, nic.ip, "a host address not ending in .0, .1 (the node's gateway) or .255");
      }
    });
    if (d.network.public_ip !== "" && !WORKLOAD_NAME.test(d.network.public_ip)) {
      report("network.public_ip", d.network.public_ip, "empty or the name of an ip workload");
    }
    if (d.network.mycelium) {
      if (!WORKLOAD_NAME.test(d.network.mycelium.network)) report("network.mycelium.network", d.network.mycelium.network, "the name of a network workload");
      if (!/^[0-9a-fA-F]{12}$/.test(d.network.mycelium.hex_seed)) report("network.mycelium.hex_seed", d.network.mycelium.hex_seed, "6 bytes as 12 hex digits");
    }
    const seenNames = new Set<string>();
    const seenPoints = new Set<string>();
    d.mounts.forEach((m, i) => {
      if (!WORKLOAD_NAME.test(m.name)) report(`mounts.${i}.name`, m.name, "the name of a zmount or volume workload");
      else if (seenNames.has(m.name)) report(`mounts.${i}.name`, m.name, "each disk mounted once");
      seenNames.add(m.name);
      if (!isCleanAbsolutePath(m.mountpoint) || m.mountpoint === "/" || !MOUNTPOINT.test(m.mountpoint) || m.mountpoint.length > 256) {
        report(`mounts.${i}.mountpoint`, m.mountpoint, "an absolute path other than / of at most 256 characters, without . or .. segments, whitespace, quotes, backslash or colon");
      } else if (seenPoints.has(m.mountpoint)) report(`mounts.${i}.mountpoint`, m.mountpoint, "a mountpoint used once");
      seenPoints.add(m.mountpoint);
    });
    for (const key of Object.keys(d.env)) {
      if (!ENV_NAME.test(key) || key.length > 256) report(`env.${key}`, key, "an environment variable name ([A-Za-z_][A-Za-z0-9_]*)");
      if ((d.env[key] ?? "").includes("\0")) report(`env.${key}`, d.env[key], "a value without NUL bytes");
    }
    validateImageFields(d, report);
  },
  challenge(enc, d) {
    enc.str(d.flist);
    enc.str(d.network.public_ip).bool(d.network.planetary);
    enc.optional(d.network.mycelium, (e, m) => e.str(m.network).str(m.hex_seed));
    enc.list(d.network.interfaces, (e, nic) => e.str(nic.network).str(nic.ip));
    enc.u64(d.size);
    enc.u64(d.compute_capacity.cpu).u64(d.compute_capacity.memory);
    enc.list(d.mounts, (e, m) => e.str(m.name).str(m.mountpoint));
    enc.str(typeof d.entrypoint === "string" ? d.entrypoint : "");
    enc.map(d.env, (e, v) => e.str(v));
    enc.bool(d.corex);
    enc.list(d.gpu, (e, g) => e.str(g));
    challengeImageFields(enc, d);
  },
  capacity(d) {
    const { cpu, memory } = d.compute_capacity;
    return { ...ZERO_CAPACITY, cru: cpu, mru: memory, sru: Math.max(d.size, minRootSize(cpu, memory)) };
  },
});
