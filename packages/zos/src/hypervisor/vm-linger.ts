/**
 * A QEMU that outlives its guest. Container and own-kernel VMs run with `-no-reboot`, so the
 * guest's reboot (zinit's poweroff, the reboot one second after a panic) ends QEMU and the monitor
 * sees the VM stopped. Three times in full CI suites (never in 300+ boots of the same guest alone,
 * idle or loaded) a guest printed `reboot: Restarting system` and its QEMU was still there 90+ s
 * later: the VM looked running, its restart policy never fired and its end was never reported.
 * Whatever QEMU or the guest got stuck in, the guest has said it is gone: `lingeringSince` reads
 * that from the console and the hypervisor then ends the QEMU (QMP quit, SIGKILL) — see
 * Hypervisor.status. Full VMs are left alone: their reboot is a real one (firmware, then the OS).
 * It runs on every status() of a running VM, so the console is only read when it has been silent
 * for the grace (one stat otherwise).
 *
 * @example
 * ```ts
 * const since = await lingeringSince(paths.consoleLog, LINGER_GRACE_MS); // its last word's time, or undefined
 * if (since !== undefined) endIt();
 * ```
 */
import { stat } from "node:fs/promises";
import { consoleTail } from "./vm-console.ts";

/** A guest that ended this long ago and still has a QEMU is ended by the host. QEMU exits in < 1 s. */
export const LINGER_GRACE_MS = 15_000;

/** The last line a Linux guest prints before its reset/power-off reaches QEMU. */
const GUEST_GONE = /reboot: (Restarting system|Power down)|Rebooting in \d+ seconds/;

/**
 * When the current boot's console ends with the guest's last word (its final non-empty line is a
 * reboot/power-down line) and the console has been silent for `graceMs` since: the console's
 * modification time, i.e. when it said it. Otherwise undefined (still talking, or no console).
 */
export async function lingeringSince(consoleLog: string, graceMs: number): Promise<number | undefined> {
  const mtime = (await stat(consoleLog).catch(() => undefined))?.mtimeMs;
  // whole ms: the file time has a fraction Date.now() has not (a console just written is not "ahead")
  if (mtime === undefined || Date.now() - Math.floor(mtime) < graceMs) return undefined;
  const tail = await consoleTail(consoleLog, 2048);
  const since = tail.slice(Math.max(0, tail.lastIndexOf("zgrid-host: qemu start")));
  const last = since.split("\n").map((l) => l.trim()).filter(Boolean).at(-1);
  return last && GUEST_GONE.test(last) ? mtime : undefined;
}
