/**
 * The node's bus API (REFERENCE.md "Node API"), registered from the route table in @zgrid/types:
 * one handler per route key (the compiler refuses a missing one), each request checked against its
 * schema before the handler runs. Every handler gets the verified caller twin from the bus, and
 * only the deployment's own twin may read or change it. Deletion is only by cancelling the
 * contract on chain. Returns the function that unregisters every route again.
 *
 * @example
 * ```ts
 * const unregister = registerRoutes(bus, { engine, statistics, version: "0.1.0", features: ["zmachine", …], … });
 * // client: await nodeClient(bus, nodeTwin).get(12)
 * unregister(); // on stop
 * ```
 */
import type { Bus, HandlerContext } from "@zgrid/bus";
import { NODE_ROUTES, parseNodeRequest, type NodeApi, type NodeRouteKey, type NodeStatistics, type PowerDurations } from "@zgrid/types";
import type { ProvisionEngine } from "../engine/provision-engine.ts";
import type { VmControl } from "../primitives/zmachine/vm-control.ts";
import type { VmProber } from "../primitives/zmachine/vm-probe.ts";
import type { PowerControl } from "../power/power-off.ts";
import type { DiskSnapshots } from "../primitives/zmount/disk-snapshots.ts";
import type { DiskWrites } from "../primitives/zmount/disk-writes.ts";

export type { NodeStatistics } from "@zgrid/types";

export interface RouteDeps {
  engine: ProvisionEngine;
  statistics(): NodeStatistics;
  version: string;
  features: string[];
  /** Private IPs in use per network of the caller (zos.network.list_private_ips). */
  privateIps(twinId: number, network: string): string[];
  wireguardPorts(): number[];
  /** The owner's hand on a zmachine: console, stop/start/restart, exec. */
  vms: Pick<VmControl, "logs" | "action" | "exec" | "execOpen" | "execIo">;
  /** tcp/http health checks of the owner's zmachine from inside its network (bounded). */
  probes: Pick<VmProber, "probe">;
  /** Power off by the farm's twin; deploy/update are refused while it drains. */
  power: Pick<PowerControl, "powerOff" | "assertAccepting">;
  /** The node's own power-state durations (power/power-ledger.ts). */
  powerDurations(): PowerDurations;
  /** Owner-only crash-consistent snapshots of zmount disks, read in bounded chunks (disk backups). */
  disks: Pick<DiskSnapshots, "open" | "read" | "close">;
  /** Owner-only writes into a disk no VM runs on (restoring a backup). */
  diskWrites: Pick<DiskWrites, "write">;
}

type Handlers = {
  [K in NodeRouteKey]: (request: K extends "deploy" | "update" ? unknown : NodeApi[K]["request"], caller: HandlerContext) => NodeApi[K]["response"] | Promise<NodeApi[K]["response"]>;
};

function handlers(deps: RouteDeps): Handlers {
  const { engine } = deps;
  return {
    deploy: (payload, ctx) => { deps.power.assertAccepting(); return engine.deploy(ctx.twinId, payload); },
    update: (payload, ctx) => { deps.power.assertAccepting(); return engine.update(ctx.twinId, payload); },
    get: (r, ctx) => engine.get(ctx.twinId, r.contract_id),
    list: (_r, ctx) => engine.list(ctx.twinId),
    changes: (r, ctx) => engine.changes(ctx.twinId, r.contract_id),
    statistics: () => deps.statistics(),
    version: () => ({ zos: deps.version, zinit: "n/a" }),
    features: () => deps.features,
    wireguardPorts: () => deps.wireguardPorts(),
    privateIps: (r, ctx) => deps.privateIps(ctx.twinId, r.network_name),
    vmLogs: (r, ctx) => deps.vms.logs(ctx.twinId, r),
    vmAction: (r, ctx) => deps.vms.action(ctx.twinId, r),
    vmExec: (r, ctx) => deps.vms.exec(ctx.twinId, r),
    vmExecOpen: (r, ctx) => deps.vms.execOpen(ctx.twinId, r),
    vmExecIo: (r, ctx) => deps.vms.execIo(ctx.twinId, r),
    vmProbe: (r, ctx) => deps.probes.probe(ctx.twinId, r),
    powerOff: (r, ctx) => deps.power.powerOff(ctx.twinId, r),
    powerDurations: () => deps.powerDurations(),
    diskSnapshotOpen: (r, ctx) => deps.disks.open(ctx.twinId, r),
    diskSnapshotRead: (r, ctx) => deps.disks.read(ctx.twinId, r),
    diskSnapshotClose: (r, ctx) => deps.disks.close(ctx.twinId, r),
    diskWrite: (r, ctx) => deps.diskWrites.write(ctx.twinId, r),
  };
}

/** Registers every route of NODE_ROUTES on `bus`; the returned function unregisters them all. */
export function registerRoutes(bus: Pick<Bus, "handle" | "unhandle">, deps: RouteDeps): () => void {
  const table = handlers(deps);
  const keys = Object.keys(NODE_ROUTES) as NodeRouteKey[];
  for (const key of keys) {
    const handler = table[key] as (request: unknown, caller: HandlerContext) => unknown;
    bus.handle(NODE_ROUTES[key].name, (payload: unknown, ctx: HandlerContext) => handler(parseNodeRequest(key, payload), ctx));
  }
  return () => {
    for (const key of keys) bus.unhandle(NODE_ROUTES[key].name);
  };
}
