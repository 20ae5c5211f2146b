/**
 * The node's bus API (REFERENCE.md "Node API"). Every handler gets the verified caller twin from the
 * bus, and only the deployment's own twin may read or change it. Deletion is only by cancelling
 * the contract on chain.
 *
 * @example
 * ```ts
 * registerRoutes(bus, { engine, statistics, version: "0.1.0", features: ["zmachine", …] });
 * // client: await bus.request(nodeTwin, "zos.deployment.get", { contract_id: 12 })
 * ```
 */
import type { Bus } from "@zgrid/bus";
import { ValidationError, type Capacity } from "@zgrid/types";
import type { ProvisionEngine } from "../engine/provision-engine.ts";

export interface NodeStatistics {
  total: Capacity;
  used: Capacity;
  system: Capacity;
  users: { deployments: number; workloads: number };
}

export interface RouteDeps {
  engine: ProvisionEngine;
  statistics(): NodeStatistics;
  version: string;
  features: string[];
  /** Private IPs in use per network of the caller (zos.network.list_private_ips). */
  privateIps(twinId: number, network: string): string[];
  wireguardPorts(): number[];
}

function contractIdOf(payload: unknown): number {
  const id = (payload as { contract_id?: unknown } | null)?.contract_id;
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 1) {
    throw new ValidationError([{ field: "contract_id", value: id, expected: "a positive integer contract id" }]);
  }
  return id;
}

export function registerRoutes(bus: Pick<Bus, "handle">, deps: RouteDeps): void {
  const { engine } = deps;
  bus.handle("zos.deployment.deploy", (payload, ctx) => engine.deploy(ctx.twinId, payload));
  bus.handle("zos.deployment.update", (payload, ctx) => engine.update(ctx.twinId, payload));
  bus.handle("zos.deployment.get", (payload, ctx) => engine.get(ctx.twinId, contractIdOf(payload)));
  bus.handle("zos.deployment.list", (_payload, ctx) => engine.list(ctx.twinId));
  bus.handle("zos.deployment.changes", (payload, ctx) => engine.changes(ctx.twinId, contractIdOf(payload)));
  bus.handle("zos.statistics.get", () => deps.statistics());
  bus.handle("zos.system.version", () => ({ zos: deps.version, zinit: "n/a" }));
  bus.handle("zos.system.node_features_get", () => deps.features);
  bus.handle("zos.network.list_wg_ports", () => deps.wireguardPorts());
  bus.handle("zos.network.list_private_ips", (payload, ctx) => {
    const name = (payload as { network_name?: unknown } | null)?.network_name;
    if (typeof name !== "string" || name === "") {
      throw new ValidationError([{ field: "network_name", value: name, expected: "the name of one of your networks" }]);
    }
    return deps.privateIps(ctx.twinId, name);
  });
}
