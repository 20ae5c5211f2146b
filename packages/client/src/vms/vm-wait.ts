/**
 * Waits after a deploy until the VM's app runs (issue 15): the guest init has started it
 * (`zgrid-init: exec` on the console), it has not ended since (no `app exited`/`killed`/`FATAL`),
 * and it is still running `settleMs` later; where the image (or compose file) has a HEALTHCHECK,
 * until the node reports it `healthy`. Fails with the console's last lines otherwise (and the
 * health check's last output when it turned `unhealthy`).
 *
 * @example
 * ```ts
 * await waitAppRunning(() => node.vmLogs({ contract_id, name: "web", max_bytes: 65536 }), { timeoutMs: 90_000 });
 * ```
 */
import type { VmLogs } from "@zgrid/types";
import { DeployFailedError } from "../errors/client-errors.ts";

const ENDED = /zgrid-init: (app exited with status \d+|app killed by SIG\w+|FATAL: .*)/;
const STARTED = /zgrid-init: exec /;

/** The last `n` non-empty lines of a console text. */
export function lastLines(text: string, n = 15): string {
  return text.split("\n").map((l) => l.trimEnd()).filter(Boolean).slice(-n).join("\n");
}

export async function waitAppRunning(read: () => Promise<VmLogs>, o: { timeoutMs?: number; settleMs?: number; pollMs?: number; name?: string } = {}): Promise<VmLogs> {
  const deadline = Date.now() + (o.timeoutMs ?? 120_000);
  const settle = o.settleMs ?? 3_000;
  let startedAt = 0;
  let last: VmLogs | undefined;
  const fail = (why: string, l: VmLogs | undefined): never => {
    throw new DeployFailedError(`vm ${o.name ?? ""}: ${why}${l?.log ? `\n--- last console lines ---\n${lastLines(l.log)}` : ""}`, {
      details: { state: l?.state, reason: l?.reason },
      hint: `see the whole console with \`zgrid vm logs ${o.name ?? "NAME"}\``,
    });
  };
  while (true) {
    last = await read();
    const since = last.log.slice(Math.max(0, last.log.lastIndexOf("zgrid-host: qemu start")));
    const ended = ENDED.exec(last.log);
    if (ended) fail(ended[1]!.replace(/^FATAL: /, ""), last);
    if (last.state === "stopped") fail(last.reason || "the VM stopped", last);
    if (last.health?.status === "unhealthy") fail(`the app is unhealthy (its health check failed ${last.health.failing_streak} times in a row: ${last.health.last_output.trim().slice(0, 500)})`, last);
    if (STARTED.test(since) && last.state === "running") {
      startedAt ||= Date.now();
      if (Date.now() - startedAt >= settle && (!last.health || last.health.status === "healthy")) return last;
    }
    if (Date.now() > deadline) fail(!startedAt ? "the app did not start in time" : last.health && last.health.status !== "healthy" ? "the app did not become healthy in time" : "the app did not stay up", last);
    await new Promise((r) => setTimeout(r, o.pollMs ?? 1_000));
  }
}
