/**
 * A QEMU that outlives its guest. Container and own-kernel VMs run with `-no-reboot`, so the
 * guest's reboot (zinit's poweroff, the reboot one second after a panic) ends QEMU and the monitor
 * sees the VM stopped. Three times in full CI suites (never in 300+ boots of the same guest alone,
 * idle or loaded) a guest printed `reboot: Restarting system` and its QEMU was still there 90+ s
 * later: the VM looked running, its restart policy never fired and its end was never reported.
 * Whatever QEMU or the guest got stuck in, the guest has said it is gone: `lingeringSince` reads
 * that from the console and the hypervisor then ends the QEMU (QMP quit, SIGKILL) — see
 * Hypervisor.status. Full VMs are left alone: their reboot is a real one (firmware, then the OS).
 *
 * @example
 * ```ts
 * const since = await lingeringSince(paths.consoleLog);   // ms epoch of the guest's last word, or undefined
 * if (since !== undefined && Date.now() - since > LINGER_GRACE_MS) endIt();
 * const why = processDiagnostics(pid);                    // "state S, wchan …, threads …" for the log
 * ```
 */
import { readFileSync, readdirSync } from "node:fs";
import { stat } from "node:fs/promises";
import { consoleTail } from "./vm-console.ts";

/** A guest that ended this long ago and still has a QEMU is ended by the host. QEMU exits in < 1 s. */
export const LINGER_GRACE_MS = 15_000;

/** The last line a Linux guest prints before its reset/power-off reaches QEMU. */
const GUEST_GONE = /reboot: (Restarting system|Power down)|Rebooting in \d+ seconds/;

/**
 * When the current boot's console ends with the guest's last word (its final non-empty line is a
 * reboot/power-down line): the console's modification time, i.e. when it said it. Otherwise
 * undefined (still talking, or no console).
 */
export async function lingeringSince(consoleLog: string): Promise<number | undefined> {
  const tail = await consoleTail(consoleLog, 2048);
  const since = tail.slice(Math.max(0, tail.lastIndexOf("zgrid-host: qemu start")));
  const last = since.split("\n").map((l) => l.trim()).filter(Boolean).at(-1);
  if (!last || !GUEST_GONE.test(last)) return undefined;
  return (await stat(consoleLog).catch(() => undefined))?.mtimeMs;
}

/** What a process is doing, for the log: its state, kernel wait channel and its threads' states. */
export function processDiagnostics(pid: number): string {
  const state = (p: string): string => {
    try {
      const s = readFileSync(`${p}/stat`, "utf8");
      const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
      return `${f[0]} utime ${f[11]} stime ${f[12]}`;
    } catch {
      return "gone";
    }
  };
  const wchan = (p: string): string => {
    try {
      return readFileSync(`${p}/wchan`, "utf8") || "-";
    } catch {
      return "?";
    }
  };
  let threads: string[] = [];
  try {
    threads = readdirSync(`/proc/${pid}/task`).map((t) => {
      const p = `/proc/${pid}/task/${t}`;
      let comm = "";
      try {
        comm = readFileSync(`${p}/comm`, "utf8").trim();
      } catch { /* gone */ }
      return `${t}/${comm}: ${state(p)} wchan ${wchan(p)}`;
    });
  } catch { /* gone */ }
  return `process ${state(`/proc/${pid}`)} wchan ${wchan(`/proc/${pid}`)}; threads ${threads.join("; ")}`;
}
