/**
 * Converges the grid to a spec: a plan (create / update / replace / delete / keep per VM and per
 * gateway, then network parts no longer used), then its execution. Disks are data: a VM whose model
 * changed is updated in place (the node restarts it with its disks); only a change of node, network,
 * address range or public IP (or a shrinking disk) needs a new VM, and the plan then names the disks
 * lost: `applyPlan` refuses a plan that destroys disks unless `allowDataLoss`. A gateway is replaced
 * when it changed or its VM is replaced.
 *
 * @example
 * ```ts
 * const plan = await planSpec(grid, spec);     // show it
 * await applyPlan(grid, spec, plan, { onProgress });
 * await deleteSpec(grid, spec);
 * ```
 */
import { createHash } from "node:crypto";
import type { Grid } from "../grid.ts";
import type { ProgressFn } from "../deploy/deployer.ts";
import { DataLossError, InputError } from "../errors/client-errors.ts";
import { hasPublicIp, type VmModel } from "../models/vm-model.ts";
import type { VmInfo } from "../vms/vm-service.ts";
import { waitDependency } from "../vms/vm-wait.ts";
import { projectVms, refreshHosts, withHosts } from "./compose-hosts.ts";
import type { GatewayInput } from "../gateways/gateway-service.ts";
import type { ZdbInfo } from "../zdbs/zdb-service.ts";
import type { Spec } from "./spec-file.ts";

export interface PlanStep {
  /** update: changed in place (the node restarts the VM with its disks); replace: a new VM. */
  action: "create" | "update" | "replace" | "delete" | "keep";
  kind: "vm" | "network" | "gateway" | "zdb";
  name: string;
  nodeId?: number;
  reason?: string;
  /** Disks whose data this step destroys; `applyPlan` refuses such a plan unless `allowDataLoss`. */
  dataLoss?: string[];
}

export type Plan = PlanStep[];

/** The hash a VM's contract keeps, so a re-apply sees a change. */
export function vmSpecHash(vm: VmModel, ipRange: string | undefined): string {
  return createHash("sha256").update(JSON.stringify({ vm, ipRange })).digest("hex").slice(0, 12);
}

export async function planSpec(grid: Grid, spec: Spec): Promise<Plan> {
  const all = await grid.vms.list();
  const mine = all.filter((v) => v.project === spec.project);
  const plan: Plan = [];
  for (const vm of spec.vms) {
    const other = all.find((v) => v.name === vm.name && v.project !== spec.project);
    if (other) throw new InputError(`VM '${vm.name}' exists outside project '${spec.project}'`, { hint: "rename it in the spec or remove the other one" });
    const cur = mine.find((v) => v.name === vm.name);
    if (!cur) plan.push({ action: "create", kind: "vm", name: vm.name, ...(vm.node ? { nodeId: vm.node } : {}) });
    else plan.push(planVm(vm, cur, vmSpecHash(vm, ipRangeOf(spec, vm.network)), ipRangeOf(spec, vm.network)));
  }
  for (const cur of mine) {
    if (spec.vms.some((v) => v.name === cur.name)) continue;
    const lost = cur.disks.map((d) => d.name);
    plan.push({ action: "delete", kind: "vm", name: cur.name, nodeId: cur.nodeId, ...(lost.length ? { dataLoss: lost } : {}) });
  }
  const gws = await grid.gateways.list();
  for (const g of spec.gateways) {
    const cur = gws.find((x) => x.name === g.name);
    if (cur && cur.project !== spec.project) throw new InputError(`gateway '${g.name}' exists outside project '${spec.project}'`, { hint: "rename it in the spec or remove the other one" });
    const hash = gatewaySpecHash(spec, g);
    const vmReplaced = !!g.vm && plan.some((s) => s.kind === "vm" && s.name === g.vm && (s.action === "replace" || s.action === "delete"));
    if (!cur) plan.push({ action: "create", kind: "gateway", name: g.name });
    else if (cur.spec !== hash || vmReplaced) plan.push({ action: "replace", kind: "gateway", name: g.name, nodeId: cur.nodeId, reason: cur.spec !== hash ? "changed" : `VM '${g.vm}' is replaced` });
    else plan.push({ action: "keep", kind: "gateway", name: g.name, nodeId: cur.nodeId });
  }
  for (const cur of gws) if (cur.project === spec.project && !spec.gateways.some((g) => g.name === cur.name)) plan.push({ action: "delete", kind: "gateway", name: cur.name, nodeId: cur.nodeId });
  plan.push(...planZdbs(await grid.zdbs.list(), spec));
  // network parts of this project on nodes where no VM of the spec will stay
  const keepNodes = (network: string) => new Set(plan.filter((s) => s.kind === "vm" && s.action !== "delete").map((s) => {
    const vm = spec.vms.find((v) => v.name === s.name);
    return vm?.network === network ? (vm.node ?? s.nodeId) : undefined;
  }));
  for (const n of await grid.networks.list()) {
    for (const p of n.parts) {
      if (p.project !== spec.project) continue;
      const declared = spec.networks.some((x) => x.name === n.name);
      if (!declared || !keepNodes(n.name).has(p.nodeId)) plan.push({ action: "delete", kind: "network", name: n.name, nodeId: p.nodeId });
    }
  }
  return plan;
}

export async function applyPlan(grid: Grid, spec: Spec, plan: Plan, o: { onProgress?: ProgressFn; signal?: AbortSignal; allowDataLoss?: boolean; dependencyTimeoutMs?: number } = {}): Promise<VmInfo[]> {
  const progress = o.onProgress ?? (() => undefined);
  const losing = plan.filter((s) => s.dataLoss?.length);
  if (losing.length && !o.allowDataLoss) {
    const what = losing.map((s) => `${s.action} ${s.kind} '${s.name}' destroys disk(s) ${s.dataLoss!.join(", ")}${s.reason ? ` (${s.reason})` : ""}`);
    throw new DataLossError(`the plan destroys data: ${what.join("; ")}`, { details: { steps: losing }, hint: "nothing was changed; keep the VM's node, network and public IP (those need a new VM) and its disks, or apply again with --allow-data-loss (SDK: allowDataLoss)" });
  }
  for (const s of plan.filter((x) => x.kind === "gateway" && (x.action === "delete" || x.action === "replace"))) {
    progress(`gateway '${s.name}': removing${s.action === "replace" ? " (to replace it)" : ""}`);
    await grid.gateways.delete(s.name);
  }
  for (const s of plan.filter((x) => x.kind === "vm" && (x.action === "delete" || x.action === "replace"))) {
    progress(`vm '${s.name}': removing${s.action === "replace" ? " (to replace it)" : ""}`);
    await grid.vms.delete(s.name);
  }
  const made: VmInfo[] = [];
  // a one-shot job others wait for to complete exits by design: its deploy does not wait for it to stay up
  const jobs = new Set(Object.values(spec.depends ?? {}).flat().filter((d) => d.condition === "service_completed_successfully").map((d) => d.vm));
  // compose: the VMs know each other by name (compose-hosts.ts)
  const creating = plan.some((x) => x.kind === "vm" && (x.action === "create" || x.action === "replace"));
  const known = spec.serviceNames && plan.some((x) => x.kind === "vm" && x.action !== "keep" && x.action !== "delete") ? await projectVms(grid, spec) : [];
  const note = (v: VmInfo) => { known.splice(0, known.length, ...known.filter((k) => k.name !== v.name), { name: v.name, ip: v.ip, network: v.network }); };
  for (const s of plan.filter((x) => x.kind === "vm" && (x.action === "create" || x.action === "replace"))) {
    const model = spec.vms.find((v) => v.name === s.name)!;
    const vm = withHosts(model, spec, known);
    await waitDependencies(grid, spec, vm.name, progress, o.dependencyTimeoutMs);
    progress(`vm '${s.name}': deploying`);
    const ipRange = ipRangeOf(spec, vm.network);
    made.push(await grid.vms.deploy(vm, { project: spec.project, spec: vmSpecHash(model, ipRange), ...(ipRange ? { ipRange } : {}), onProgress: (m) => progress(`vm '${s.name}': ${m}`), ...(o.signal ? { signal: o.signal } : {}), ...(jobs.has(vm.name) ? { waitRunning: false } : {}) }));
    note(made.at(-1)!);
  }
  for (const s of plan.filter((x) => x.kind === "vm" && x.action === "update")) {
    const model = spec.vms.find((v) => v.name === s.name)!;
    const vm = withHosts(model, spec, known);
    await waitDependencies(grid, spec, vm.name, progress, o.dependencyTimeoutMs);
    progress(`vm '${s.name}': updating in place (restarts it, disks kept)`);
    made.push(await grid.vms.update(vm.name, vm, { project: spec.project, spec: vmSpecHash(model, ipRangeOf(spec, vm.network)), onProgress: (m) => progress(`vm '${s.name}': ${m}`), ...(o.signal ? { signal: o.signal } : {}) }));
  }
  if (creating && spec.serviceNames) {
    progress("telling the project's VMs each other's names (/etc/hosts)");
    await refreshHosts(grid, spec, progress);
  }
  for (const s of plan.filter((x) => x.kind === "zdb" && x.action === "delete")) {
    progress(`zdb '${s.name}': removing`);
    await grid.zdbs.delete(s.name);
  }
  for (const s of plan.filter((x) => x.kind === "zdb" && x.action === "create")) {
    const z = spec.zdbs.find((x) => x.name === s.name)!;
    progress(`zdb '${s.name}': deploying`);
    await grid.zdbs.create({ ...z, project: spec.project, onProgress: (m) => progress(`zdb '${s.name}': ${m}`), ...(o.signal ? { signal: o.signal } : {}) });
  }
  for (const s of plan.filter((x) => x.kind === "network" && x.action === "delete")) {
    const part = (await grid.networks.list()).find((n) => n.name === s.name)?.parts.find((p) => p.nodeId === s.nodeId);
    if (!part) continue;
    progress(`network '${s.name}': removing its part on node ${s.nodeId}`);
    await grid.contracts.cancel(part.contractId);
  }
  for (const s of plan.filter((x) => x.kind === "gateway" && (x.action === "create" || x.action === "replace"))) {
    const g = spec.gateways.find((x) => x.name === s.name)!;
    progress(`gateway '${s.name}': deploying`);
    await grid.gateways.create({ ...g, project: spec.project, spec: gatewaySpecHash(spec, g), onProgress: (m) => progress(`gateway '${s.name}': ${m}`), ...(o.signal ? { signal: o.signal } : {}) });
  }
  return made;
}

/**
 * Waits for the `depends_on` conditions of VM `name` (compose): each dependency's condition, one
 * after the other, each within `timeoutMs` (default 300 s); a DeployFailedError names the
 * dependency, the condition and what it saw.
 */
async function waitDependencies(grid: Grid, spec: Spec, name: string, progress: ProgressFn, timeoutMs?: number): Promise<void> {
  for (const d of spec.depends?.[name] ?? []) {
    progress(`vm '${name}': waiting for '${d.vm}' (${d.condition})`);
    const info = await grid.vms.get(d.vm);
    await waitDependency(() => grid.vms.logs(d.vm, { maxBytes: 64 * 1024 }, info), d.condition, { name: d.vm, dependent: name, ...(timeoutMs ? { timeoutMs } : {}) });
  }
}

/**
 * The hash a gateway's contract keeps: its input and where its VM lives (network, range, node): an
 * in-place update of the VM keeps its address, so the gateway stays; a replaced VM replaces it.
 */
export function gatewaySpecHash(spec: Spec, g: GatewayInput): string {
  const vm = g.vm ? spec.vms.find((v) => v.name === g.vm) : undefined;
  const where = vm ? { network: vm.network, ipRange: ipRangeOf(spec, vm.network) ?? "", node: vm.node ?? 0, publicIp: vm.public_ip } : "";
  return createHash("sha256").update(JSON.stringify({ g, vm: where })).digest("hex").slice(0, 12);
}

/**
 * keep, update (in place: same node, network, address and public IP; the node restarts the VM with
 * its disks) or replace (a new VM: its disks are lost). An update that drops a disk loses that one.
 */
export function planVm(vm: VmModel, cur: VmInfo, hash: string, ipRange: string | undefined): PlanStep {
  const at = { kind: "vm" as const, name: vm.name, nodeId: cur.nodeId };
  const disks = cur.disks.map((d) => d.name);
  const newVm = (reason: string): PlanStep => ({ action: "replace", ...at, reason, ...(disks.length ? { dataLoss: disks } : {}) });
  if (cur.state === "unreachable") return newVm(`node ${cur.nodeId} does not answer`);
  if (vm.node !== undefined && vm.node !== cur.nodeId) return newVm(`moves from node ${cur.nodeId} to node ${vm.node}`);
  if (vm.network !== cur.network) return newVm(`network ${cur.network} → ${vm.network}`);
  if (hasPublicIp(vm) !== cur.hasPublicIp) return newVm(hasPublicIp(vm) ? "public IP added" : "public IP removed");
  if (ipRange && cur.ip && !inRange16(cur.ip, ipRange)) return newVm(`its address ${cur.ip} is outside the network's new range ${ipRange}`);
  for (const d of vm.disks) {
    const was = cur.disks.find((x) => x.name === d.name);
    if (was && d.size < was.sizeMiB) return newVm(`disk ${d.name} shrinks from ${was.sizeMiB} to ${d.size} MiB (a disk only grows in place)`);
  }
  if (cur.spec === hash && cur.state === "ok") return { action: "keep", ...at };
  const dropped = disks.filter((n) => !vm.disks.some((d) => d.name === n));
  const reason = cur.spec === hash ? `state ${cur.state}: restarts it` : "changed: restarts it, disks kept";
  return { action: "update", ...at, reason, ...(dropped.length ? { dataLoss: dropped } : {}) };
}

function inRange16(ip: string, range: string): boolean {
  return ip.split(".").slice(0, 2).join(".") === range.split(".").slice(0, 2).join(".");
}

/** Removes every VM and network part of the spec's project. */
export async function deleteSpec(grid: Grid, spec: Spec, o: { onProgress?: ProgressFn } = {}): Promise<Plan> {
  const plan: Plan = [];
  for (const g of (await grid.gateways.list()).filter((x) => x.project === spec.project)) {
    o.onProgress?.(`gateway '${g.name}': removing`);
    await grid.gateways.delete(g.name);
    plan.push({ action: "delete", kind: "gateway", name: g.name, nodeId: g.nodeId });
  }
  for (const vm of (await grid.vms.list()).filter((v) => v.project === spec.project)) {
    o.onProgress?.(`vm '${vm.name}': removing`);
    await grid.vms.delete(vm.name);
    plan.push({ action: "delete", kind: "vm", name: vm.name, nodeId: vm.nodeId });
  }
  for (const z of (await grid.zdbs.list()).filter((x) => x.project === spec.project)) {
    o.onProgress?.(`zdb '${z.name}': removing`);
    await grid.zdbs.delete(z.name);
    plan.push({ action: "delete", kind: "zdb", name: z.name, nodeId: z.nodeId });
  }
  for (const n of await grid.networks.list()) {
    for (const p of n.parts.filter((x) => x.project === spec.project)) {
      o.onProgress?.(`network '${n.name}': removing its part on node ${p.nodeId}`);
      await grid.contracts.cancel(p.contractId);
      plan.push({ action: "delete", kind: "network", name: n.name, nodeId: p.nodeId });
    }
  }
  return plan;
}

/**
 * zdbs: create what is missing, delete what the spec dropped. A zdb whose settings changed is
 * kept as it is (replacing it would delete its data): the plan says so.
 */
function planZdbs(existing: ZdbInfo[], spec: Spec): Plan {
  const plan: Plan = [];
  for (const z of spec.zdbs) {
    const cur = existing.find((x) => x.name === z.name);
    if (cur && cur.project !== spec.project) throw new InputError(`zdb '${z.name}' exists outside project '${spec.project}'`, { hint: "rename it in the spec or remove the other one" });
    if (!cur) plan.push({ action: "create", kind: "zdb", name: z.name, ...(z.node ? { nodeId: z.node } : {}) });
    else {
      const changed = cur.size !== z.size || cur.mode !== z.mode || cur.public !== z.public || (z.node !== undefined && z.node !== cur.nodeId);
      plan.push({ action: "keep", kind: "zdb", name: z.name, nodeId: cur.nodeId, ...(changed ? { reason: "settings differ; kept (replacing would delete its data): `zgrid zdb rm` it to recreate" } : {}) });
    }
  }
  for (const cur of existing) if (cur.project === spec.project && !spec.zdbs.some((z) => z.name === cur.name)) plan.push({ action: "delete", kind: "zdb", name: cur.name, nodeId: cur.nodeId });
  return plan;
}

function ipRangeOf(spec: Spec, network: string): string | undefined {
  return spec.networks.find((n) => n.name === network)?.ip_range;
}
