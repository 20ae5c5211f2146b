/**
 * Tap devices for VM networking: a persistent tap (ip tuntap) attached to a host bridge. The tap
 * outlives a crashed QEMU, so a restarted VM reuses it; removeTap deletes it on stop/delete.
 *
 * @example
 * ```ts
 * const tap = tapNameFor("12-7-web");        // "zt" + 12 hex chars, <= 15 (IFNAMSIZ-1)
 * await ensureTap(tap, "br-zos");
 * await removeTap(tap);
 * ```
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { runHost } from "./host-command.ts";

/** Stable tap name derived from the VM id ("zt" + 12 hex of sha256(id)). */
export function tapNameFor(vmId: string): string {
  return "zt" + createHash("sha256").update(vmId).digest("hex").slice(0, 12);
}

/** Stable locally administered unicast MAC derived from the VM id. */
export function macFor(vmId: string): string {
  const h = createHash("sha256").update("mac:" + vmId).digest();
  const bytes = [0x02, h[0]!, h[1]!, h[2]!, h[3]!, h[4]!];
  return bytes.map((b) => b.toString(16).padStart(2, "0")).join(":");
}

/**
 * Whether a network interface `name` exists in this process's network namespace. Read from
 * /proc/self/net/dev, which follows the process's network namespace, not /sys/class/net, which
 * shows the namespace of whoever mounted /sys (a daemon entered with `nsenter --net` only would
 * see the host's interfaces there).
 */
export function linkExists(name: string): boolean {
  return readFileSync("/proc/self/net/dev", "utf8").split("\n").slice(2).some((l) => l.slice(0, l.indexOf(":")).trim() === name);
}

/** Creates the tap if missing, attaches it to the bridge and brings it up. Returns true if created. */
export async function ensureTap(name: string, bridge: string): Promise<boolean> {
  let created = false;
  if (!linkExists(name)) {
    await runHost("ip", ["tuntap", "add", "dev", name, "mode", "tap"]);
    created = true;
  }
  try {
    await runHost("ip", ["link", "set", "dev", name, "master", bridge]);
    await runHost("ip", ["link", "set", "dev", name, "up"]);
  } catch (e) {
    if (created) await removeTap(name).catch(() => undefined);
    throw e;
  }
  return created;
}

/** Deletes the tap; a missing tap is fine. */
export async function removeTap(name: string): Promise<void> {
  if (!linkExists(name)) return;
  await runHost("ip", ["link", "del", "dev", name]).catch((e: unknown) => {
    if (linkExists(name)) throw e;
  });
}
