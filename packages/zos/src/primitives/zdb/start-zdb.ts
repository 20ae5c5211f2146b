/**
 * Starts the node's zdb service and builds the zdb workload manager around it: namespaces under
 * `<dataDir>/zdb`, the node listener on `listen` (its port kept across restarts when 0, like the
 * bus port), private endpoints in the twin's networks found in the deployment store.
 *
 * @example
 * ```ts
 * const zdb = await startZdb({ dataDir, sockDir: "/run/zos/zdb", listen: { host: "0.0.0.0", port: 9900 }, announce: ["10.0.0.5"], store });
 * managers.zdb = zdb.manager; // … await zdb.stop();
 * ```
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "@zgrid/log";
import type { Deployment } from "@zgrid/types";
import type { DeploymentStore } from "../../engine/deployment-store.ts";
import type { WorkloadContext, WorkloadManager } from "../../engine/workload-manager.ts";
import type { NetworkResult } from "../network/network-manager.ts";
import { zdbManager } from "./zdb-manager.ts";
import { ZdbService } from "./zdb-service.ts";

export interface StartZdbOptions {
  dataDir: string;
  sockDir: string;
  listen: { host: string; port: number };
  /** Addresses of the node for the result (default: the listen host unless it is a wildcard). */
  announce: string[];
  /** The node's bus multiaddrs: their IPv4 addresses are announced when `announce` is empty. */
  multiaddrs?: string[];
  store: Pick<DeploymentStore, "list" | "get">;
  log?: Logger;
}

function networksOf(store: StartZdbOptions["store"], ctx: WorkloadContext): Array<{ name: string; network: NetworkResult }> {
  const d = ctx.deployment;
  const out = new Map<string, { name: string; network: NetworkResult }>();
  for (const w of d.workloads) {
    if (w.type !== "network") continue;
    const r = (ctx.resultOf(w.name) ?? (w.result?.state === "ok" ? w.result.data : undefined)) as NetworkResult | undefined;
    if (r?.namespace) out.set(r.namespace, { name: w.name, network: r });
  }
  const others: Deployment[] = store.list({ twinId: d.twin_id }).filter((x) => x.contract_id !== d.contract_id);
  for (const dep of others) {
    for (const w of dep.workloads) {
      if (w.type !== "network" || w.result?.state !== "ok") continue;
      const r = w.result.data as NetworkResult | undefined;
      if (r?.namespace && !out.has(r.namespace)) out.set(r.namespace, { name: w.name, network: r });
    }
  }
  return [...out.values()];
}

export async function startZdb(o: StartZdbOptions): Promise<{ service: ZdbService; manager: WorkloadManager; port: number; stop(): Promise<void> }> {
  const service = new ZdbService({ dir: join(o.dataDir, "zdb"), ...(o.log ? { log: o.log } : {}) });
  const portFile = join(o.dataDir, "zdb.port");
  const saved = o.listen.port === 0 && existsSync(portFile) ? Number(readFileSync(portFile, "utf8").trim()) : 0;
  let port: number;
  try {
    port = await service.start({ host: o.listen.host, port: saved || o.listen.port });
  } catch (e) {
    if (!saved) throw e;
    port = await service.start({ host: o.listen.host, port: 0 });
  }
  writeFileSync(portFile, `${port}\n`);
  const wildcard = o.listen.host === "0.0.0.0" || o.listen.host === "::";
  const fromBus = [...new Set((o.multiaddrs ?? []).map((a) => /^\/ip4\/([^/]+)/.exec(a)?.[1]).filter((a): a is string => !!a && a !== "0.0.0.0"))];
  const addresses = o.announce.length ? o.announce : wildcard ? fromBus : [o.listen.host];
  const manager = zdbManager({ service, sockDir: o.sockDir, nodeEndpoints: addresses.map((address) => ({ address, port })), networksOf: (ctx) => networksOf(o.store, ctx) });
  return { service, manager: manager as WorkloadManager, port, stop: () => service.stop() };
}
