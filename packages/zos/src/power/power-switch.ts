/**
 * The node's power switch: the one documented interface between "the node decided to power off"
 * and the hardware. After the daemon has stopped every service, `off()` cuts the power; waking is
 * the NIC's job (a Wake-on-LAN magic packet on the underlay), never the node's.
 *
 * - `acpi` (real servers): arms the underlay NIC for WoL (`ethtool -s <nic> wol g`), then powers
 *   the machine off with `rtcwake -m off -s <wakeAfterSeconds>` (ACPI S5 with an RTC alarm as the
 *   fallback wake, so a lost magic packet never strands a node past its uptime proof).
 * - `bmc` (the local grid, SIMULATED hardware): the node's zosd runs under a per-node BMC process
 *   (`bin/zbmc.ts`, `bmc.ts`) that holds the node's NIC and listens for magic packets; "off" is the
 *   daemon exiting with POWER_OFF_EXIT_CODE, upon which the BMC treats the machine as off (nothing
 *   of the node runs) until a magic packet naming its MAC arrives.
 * - `none`: the node cannot power off; `zos.system.power_off` is refused.
 *
 * @example
 * ```ts
 * const sw = createPowerSwitch({ switch: "acpi", nic: "eth0", wakeAfterSeconds: 20 * 3600 });
 * await sw.prepare();   // at start: WoL armed on the NIC
 * await sw.off();       // the machine goes down (does not return on hardware)
 * ```
 */
import { spawnSync } from "node:child_process";
import { BaseError } from "@zgrid/types";

/** zosd's exit status meaning "power me off" to the local grid's BMC (EX_TEMPFAIL). */
export const POWER_OFF_EXIT_CODE = 75;

export type PowerSwitchKind = "none" | "acpi" | "bmc";

export interface PowerSwitch {
  readonly kind: PowerSwitchKind;
  /** Called at start: arm the NIC for Wake-on-LAN. */
  prepare(): Promise<void>;
  /** Cuts the power. Called only after the daemon stopped all its services. */
  off(): Promise<void>;
}

export interface PowerSwitchOptions {
  switch: PowerSwitchKind;
  /** The underlay NIC that receives magic packets (default eth0). */
  nic: string;
  /** RTC alarm for `acpi`: wake by itself after this many seconds. */
  wakeAfterSeconds: number;
}

export class PowerSwitchError extends BaseError {
  override readonly code: string = "POWER_SWITCH";
}

export function createPowerSwitch(o: PowerSwitchOptions): PowerSwitch {
  switch (o.switch) {
    case "acpi":
      return {
        kind: "acpi",
        async prepare() { run("ethtool", ["-s", o.nic, "wol", "g"]); },
        async off() { run("rtcwake", ["-m", "off", "-s", String(o.wakeAfterSeconds)]); },
      };
    case "bmc":
      return {
        kind: "bmc",
        async prepare() { /* the BMC holds the NIC and listens already */ },
        async off() { process.exit(POWER_OFF_EXIT_CODE); },
      };
    default:
      return {
        kind: "none",
        async prepare() { /* nothing to arm */ },
        async off() { throw new PowerSwitchError("this node has no power switch", { hint: "set power.switch in the node config (acpi on servers, bmc on the local grid)" }); },
      };
  }
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 30_000 });
  if (r.status !== 0) throw new PowerSwitchError(`${cmd} ${args.join(" ")} failed: ${(r.stderr || r.error?.message || "").trim().slice(0, 300)}`, { hint: `install ${cmd} and check the NIC supports Wake-on-LAN` });
}

/** The MAC of `nic` in the caller's network namespace (netlink via `ip`, not /sys). */
export function macOf(nic: string): string | undefined {
  const r = spawnSync("ip", ["-j", "link", "show", "dev", nic], { encoding: "utf8" });
  if (r.status !== 0) return undefined;
  const [link] = JSON.parse(r.stdout) as Array<{ address?: string }>;
  return link?.address;
}
