/**
 * zdb: a 0-db namespace in the node's zdb service (zdb-service.ts), named after the workload id.
 * Provision creates it (or applies a new size/password/public in place: zdb is updatable) and
 * makes the service reachable inside each of the twin's networks on this node (a forwarder on
 * the network's gateway address, port 9900); the node's own address serves it too (private
 * namespaces need their password there). Deprovision deletes the data; the twin's forwarders go
 * with its last namespace. The data lives under the node's data dir and counts as HRU = size.
 * A network whose namespace is not there (yet) never fails the namespace: after a node restart
 * the networks are made again concurrently with the zdbs' adoption; `alive` says false while a
 * forwarder of a network that is there is missing (not yet made, or killed), so the engine's
 * liveness pass has adopt start it.
 *
 * @example
 * ```ts
 * managers.zdb = zdbManager({ service, sockDir, nodeEndpoints: [{ address: "10.0.0.5", port: 9900 }], networksOf });
 * // provision → { namespace: "7-12-db", endpoints: [{ address: "10.20.2.1", port: 9900, network: "net" }, { address: "10.0.0.5", port: 9900 }] }
 * ```
 */
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { WorkloadOf, ZdbEndpoint, ZdbResult } from "@zgrid/types";
import type { WorkloadContext, WorkloadManager } from "../../engine/workload-manager.ts";
import type { NetworkResult } from "../network/network-manager.ts";
import { ensureForwarder, forwarderRunning, stopForwarder } from "./zdb-forwarder.ts";
import type { ZdbService } from "./zdb-service.ts";

/** The port zdb answers on inside a twin's network (0-db's default). */
export const ZDB_PRIVATE_PORT = 9900;

export interface ZdbManagerDeps {
  service: ZdbService;
  /** Short directory for Unix sockets and forwarder pidfiles (paths must fit 107 bytes). */
  sockDir: string;
  /** Where the node's own listener is reachable (underlay/public address and port). */
  nodeEndpoints: ZdbEndpoint[];
  /** The twin's networks on this node that are up, by workload name. */
  networksOf(ctx: WorkloadContext): Array<{ name: string; network: NetworkResult }>;
}

export function zdbManager(deps: ZdbManagerDeps): WorkloadManager<WorkloadOf<"zdb">> {
  mkdirSync(deps.sockDir, { recursive: true, mode: 0o700 });
  const files = (twin: number, netns: string) => {
    const base = join(deps.sockDir, `t${twin}-${netns}`);
    return { socket: `${base}.sock`, pidFile: `${base}.pid` };
  };

  /** The twin's networks whose namespace exists now (a forwarder can run in them). */
  const present = (ctx: WorkloadContext) => deps.networksOf(ctx).filter(({ network }) => existsSync(`/run/netns/${network.namespace}`));

  const provision = async (ctx: WorkloadContext, w: WorkloadOf<"zdb">): Promise<ZdbResult> => {
    const twin = ctx.deployment.twin_id;
    deps.service.ensureNamespace({ name: ctx.workloadId, owner: twin, mode: w.data.mode, size: w.data.size, password: w.data.password, public: w.data.public });
    const endpoints: ZdbEndpoint[] = [];
    const here = new Set(present(ctx).map(({ network }) => network.namespace));
    for (const { name, network } of deps.networksOf(ctx)) {
      // the endpoint is the network's gateway: it answers once the network (being made) is there
      endpoints.push({ address: network.gateway, port: ZDB_PRIVATE_PORT, network: name });
      if (!here.has(network.namespace)) {
        ctx.log.warn({ network: name, netns: network.namespace }, "the network's namespace is not there yet: its zdb forwarder starts when it is");
        continue;
      }
      const f = files(twin, network.namespace);
      await deps.service.listenPrivate(f.socket, twin);
      await ensureForwarder({ netns: network.namespace, address: network.gateway, port: ZDB_PRIVATE_PORT, ...f });
    }
    endpoints.push(...deps.nodeEndpoints);
    ctx.log.info({ namespace: ctx.workloadId, mode: w.data.mode, size: w.data.size, endpoints }, "zdb namespace ready");
    return { namespace: ctx.workloadId, endpoints };
  };

  return {
    provision,
    update: (ctx, w) => provision(ctx, w),
    async deprovision(ctx) {
      await deps.service.removeNamespace(ctx.workloadId);
      const twin = ctx.deployment.twin_id;
      if (deps.service.names().some((n) => deps.service.lookup(n)?.settings.owner === twin)) return;
      for (const entry of readdirSync(deps.sockDir)) {
        const m = new RegExp(`^t${twin}-(.+)\\.pid$`).exec(entry);
        if (!m) continue;
        const f = files(twin, m[1] as string);
        await stopForwarder(f);
        await deps.service.closePrivate(f.socket);
      }
    },
    async adopt(ctx, w) {
      // The data is on disk and the service reopened it at start; listeners are re-created here.
      if (!deps.service.lookup(ctx.workloadId)) return false;
      await provision(ctx, w);
      return true;
    },
    async alive(ctx) {
      // the namespace's data is the service's; what can go is a forwarder (killed, or its network
      // made again after a restart): false has the engine adopt (= start) it again
      if (!deps.service.lookup(ctx.workloadId)) return false;
      return present(ctx).every(({ network }) => forwarderRunning(files(ctx.deployment.twin_id, network.namespace)));
    },
  };
}
