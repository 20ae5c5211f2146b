/**
 * Service-name resolution between the VMs of a compose project, as a compose network gives it:
 * each VM knows the others on its private network by VM name and service name through a marked
 * block of its /etc/hosts. A VM gets the names known when it is deployed or updated in its env
 * (`ZGRID_HOSTS`, which the guest init writes into /etc/hosts at each boot and keeps out of the
 * app's env); VMs deployed earlier learn later ones when `applyPlan` refreshes the block in every
 * running VM of the project through the guest agent (`vm exec`).
 *
 * @example
 * ```ts
 * hostsLine([{ name: "db", ip: "10.20.2.2", network: "shop_default" }], spec, "app", "shop_default"); // "10.20.2.2 db"
 * ```
 */
import type { ProgressFn } from "../deploy/deployer.ts";
import type { Grid } from "../grid.ts";
import type { VmModel } from "../models/vm-model.ts";
import type { Spec } from "./spec-file.ts";

/** At most this many names per VM (the env value stays small). */
const MAX_HOSTS = 256;
const BEGIN = "# zgrid hosts begin";
const END = "# zgrid hosts end";

export interface KnownVm { name: string; ip: string; network: string }

/** `ip name alias…;…` for the VMs on `network` other than `self` (ZGRID_HOSTS). */
export function hostsLine(known: KnownVm[], spec: Spec, self: string, network: string): string {
  return known.filter((v) => v.name !== self && v.network === network && /^[0-9a-fA-F.:]+$/.test(v.ip))
    .slice(0, MAX_HOSTS)
    .map((v) => [v.ip, v.name, ...(spec.serviceNames?.[v.name] ?? [])].join(" ")).join(";");
}

/** The VM with its ZGRID_HOSTS (compose specs only; others unchanged). */
export function withHosts(vm: VmModel, spec: Spec, known: KnownVm[]): VmModel {
  if (!spec.serviceNames) return vm;
  return { ...vm, env: { ...vm.env, ZGRID_HOSTS: hostsLine(known, spec, vm.name, vm.network) } };
}

/** The project's VMs with their addresses. */
export async function projectVms(grid: Grid, spec: Spec): Promise<KnownVm[]> {
  return (await grid.vms.list()).filter((v) => v.project === spec.project && v.ip && v.state !== "deleted").map((v) => ({ name: v.name, ip: v.ip, network: v.network }));
}

/**
 * Rewrites the hosts block in every running VM of the project (after VMs were added): a VM that
 * cannot take it (stopped, no /bin/sh in its image) is named in a progress line and skipped.
 */
export async function refreshHosts(grid: Grid, spec: Spec, progress: ProgressFn): Promise<void> {
  if (!spec.serviceNames) return;
  const known = await projectVms(grid, spec);
  const script = `h=/etc/hosts; [ -f "$h" ] && sed -i '/^${BEGIN}$/,/^${END}$/d' "$h"; printf '%s\\n' "$1" >> "$h"`;
  for (const vm of known) {
    const line = hostsLine(known, spec, vm.name, vm.network);
    const block = [BEGIN, ...line.split(";").filter(Boolean).map((l) => l.replace(" ", "\t")), END].join("\n");
    try {
      const r = await grid.vms.exec(vm.name, ["/bin/sh", "-c", script, "sh", block], { user: "0:0", timeoutSec: 20 });
      if (r.exit_code !== 0) progress(`vm '${vm.name}': names of the other services not written (exit ${r.exit_code}: ${(r.stderr || r.stdout).trim().slice(0, 200)})`);
    } catch (e) {
      progress(`vm '${vm.name}': names of the other services not written (${(e as Error).message.split("\n")[0]})`);
    }
  }
}
