/**
 * A service's health check, run by the 3bot on each pass for each replica its node reports
 * running: `tcp`/`http` through the node (`vmProbe`: the node connects from inside the twin's
 * network namespace to the VM's own IP), `exec` through the VM's guest agent (`vmExec`, exit 0 is
 * healthy), `state` = the node's report alone. One failed check does not make a replica unhealthy:
 * `retries` failures in a row do (then it is replaced like a failed one); a replica that never
 * passed stays `starting` until the start timeout. A check the node could not run (busy, no
 * answer) changes nothing.
 *
 * @example
 * ```ts
 * const verdict = judgeHealth(streaks, replica.contractId, await runHealthCheck(env, spec, replica), { retries: 3 });
 * // "healthy" | "failing" (keeps serving) | "unhealthy" | "never-passed"
 * ```
 */
import { nodeClient } from "@zgrid/client";
import type { BotEnv } from "./observe.ts";
import type { ServiceSpec } from "./service-spec.ts";

/** What one check found: pass, fail (with why), or could not be run (no change). */
export type CheckResult = { ok: true } | { ok: false; detail: string } | { unknown: string };

export interface HealthStreak { failures: number; passed: boolean; detail: string }

/** Runs the service's check against one replica (a running zmachine on its node). */
export async function runHealthCheck(env: Pick<BotEnv, "grid">, s: ServiceSpec, r: { contractId: number; name: string; nodeTwinId: number }): Promise<CheckResult> {
  const h = s.health;
  if (h.type === "state") return { ok: true };
  const node = nodeClient(await env.grid.bus(), r.nodeTwinId);
  try {
    if (h.type === "exec") {
      const x = await node.vmExec({ contract_id: r.contractId, name: r.name, argv: h.command, timeout_sec: h.timeout_sec }, { timeout: h.timeout_sec * 1000 + 5_000 });
      return x.exit_code === 0 ? { ok: true } : { ok: false, detail: `exec exited ${x.exit_code ?? `by signal ${x.signal}`}${x.timed_out ? " (timed out)" : ""}: ${(x.stderr || x.stdout).trim().slice(0, 120)}` };
    }
    const p = await node.vmProbe({ contract_id: r.contractId, name: r.name, type: h.type, port: h.port, ...(h.type === "http" ? { path: h.path } : {}), timeout_ms: h.timeout_ms }, { timeout: h.timeout_ms + 5_000 });
    return p.ok ? { ok: true } : { ok: false, detail: `${h.type} check of port ${h.port}: ${p.detail}` };
  } catch (e) {
    const code = (e as { code?: string }).code;
    // the VM stopped between the node's report and the check: a real failure; anything else is the node's, not the VM's
    if (code === "VM_NOT_RUNNING") return { ok: false, detail: (e as Error).message };
    return { unknown: `${h.type} check not run: ${code ?? (e as Error).message}` };
  }
}

/**
 * Folds one check result into the replica's streak and says what it means now.
 *
 * @example
 * ```ts
 * const streaks = new Map<number, HealthStreak>();
 * judgeHealth(streaks, 12, { ok: false, detail: "refused" }, { retries: 3 }); // "never-passed"
 * ```
 */
export function judgeHealth(streaks: Map<number, HealthStreak>, contractId: number, r: CheckResult, o: { retries: number }): "healthy" | "failing" | "unhealthy" | "never-passed" {
  const s = streaks.get(contractId) ?? { failures: 0, passed: false, detail: "" };
  if ("unknown" in r) {
    s.detail = r.unknown;
  } else if (r.ok) {
    s.failures = 0;
    s.passed = true;
    s.detail = "";
  } else {
    s.failures++;
    s.detail = r.detail;
  }
  streaks.set(contractId, s);
  // a replica whose app is still coming up is judged by the start timeout (the caller), not by its streak
  if (!s.passed) return "never-passed";
  if (s.failures >= o.retries) return "unhealthy";
  return s.failures > 0 ? "failing" : "healthy";
}
