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

/** What `waitDependency` waits for (compose `depends_on` conditions). */
export type DependencyCondition = "service_started" | "service_healthy" | "service_completed_successfully";

/**
 * Waits until the VM `o.name` meets a compose `depends_on` condition, as compose means it:
 * `service_started` its app runs; `service_healthy` its health check passes (a VM without one
 * fails at once: compose refuses that too); `service_completed_successfully` its app ran and
 * exited with status 0. Fails with what was seen (the console's last lines, the check's output)
 * when the dependency ended otherwise, or when `timeoutMs` (default 300 s) passed.
 *
 * @example
 * ```ts
 * await waitDependency(() => grid.vms.logs("db", { maxBytes: 65536 }, dbInfo), "service_healthy", { name: "db", dependent: "app" });
 * ```
 */
export async function waitDependency(read: () => Promise<VmLogs>, condition: DependencyCondition, o: { name: string; dependent: string; timeoutMs?: number; pollMs?: number }): Promise<VmLogs> {
  const timeoutMs = o.timeoutMs ?? 300_000;
  const deadline = Date.now() + timeoutMs;
  const what = `'${o.dependent}' depends on '${o.name}' (${condition})`;
  const fail = (why: string, l: VmLogs | undefined): never => {
    throw new DeployFailedError(`${what}: ${why}${l?.log ? `\n--- last console lines of ${o.name} ---\n${lastLines(l.log)}` : ""}`, {
      details: { dependency: o.name, condition, state: l?.state, reason: l?.reason, ...(l?.health ? { health: l.health } : {}) },
      hint: `see its console with \`zgrid vm logs ${o.name}\`; nothing after '${o.name}' was deployed`,
    });
  };
  for (;;) {
    const last = await read();
    const since = last.log.slice(Math.max(0, last.log.lastIndexOf("zgrid-host: qemu start")));
    const ended = ENDED.exec(since)?.[1];
    const started = STARTED.test(since) && last.state === "running";
    if (condition === "service_completed_successfully") {
      if (ended === "app exited with status 0") return last;
      if (ended) fail(`it did not complete successfully: ${ended.replace(/^FATAL: /, "")}`, last);
    } else {
      if (ended || last.state === "stopped") fail(`it is not running: ${ended?.replace(/^FATAL: /, "") ?? (last.reason || "stopped")}`, last);
      if (condition === "service_started" && started) return last;
      if (condition === "service_healthy" && started) {
        if (!last.health) return fail("it has no health check (set one in its healthcheck: or the image's HEALTHCHECK), so it never becomes healthy", last);
        if (last.health.status === "healthy") return last;
        if (last.health.status === "unhealthy") fail(`it is unhealthy (its health check failed ${last.health.failing_streak} times in a row: ${last.health.last_output.trim().slice(0, 500)})`, last);
      }
    }
    if (Date.now() > deadline) {
      const state = condition === "service_healthy" && last.health ? `health ${last.health.status}` : `state ${last.state}${started ? ", app started" : ""}`;
      fail(`timed out after ${Math.round(timeoutMs / 1000)} s (${state})`, last);
    }
    await new Promise((r) => setTimeout(r, o.pollMs ?? 1_000));
  }
}
