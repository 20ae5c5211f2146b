/**
 * gateway-name-proxy and gateway-fqdn-proxy on a node with a domain (publicConfig.domain). A name
 * gateway serves `<name>.<domain>` and needs the twin's live name contract for `name` on chain; an
 * FQDN gateway serves the user's own domain (pointed at this node). Both route through the node's
 * HaproxyGateway; backends given with `network` are reached inside that private network.
 *
 * @example
 * ```ts
 * const m = gatewayManagers({ domain: "gw1.example", names: chain, proxy, findNetwork });
 * managers["gateway-name-proxy"] = m.name; managers["gateway-fqdn-proxy"] = m.fqdn;
 * ```
 */
import type { WorkloadOf } from "@zgrid/types";
import type { EgressPolicy } from "../../egress/egress-policy.ts";
import type { WorkloadContext, WorkloadManager } from "../../engine/workload-manager.ts";
import type { NetworkResult } from "../network/network-manager.ts";
import type { HaproxyGateway } from "./haproxy-gateway.ts";

export interface NameContracts {
  contractIdByName(name: string): Promise<number>;
  getContract(id: number): Promise<{ twinId: number; state: string }>;
}

export interface GatewayDeps {
  domain: string | undefined;
  names: NameContracts;
  proxy: HaproxyGateway;
  /** Every backend must pass it (no loopback, own or service address, in any encoding). */
  policy: EgressPolicy;
  /** Proof that the twin controls an FQDN (fqdn-proof.ts); none: FQDNs are not checked (tests only). */
  proveFqdn?: (fqdn: string, twinId: number) => Promise<void>;
  findNetwork(ctx: WorkloadContext, name: string): NetworkResult | undefined;
}

type Gw = WorkloadOf<"gateway-name-proxy"> | WorkloadOf<"gateway-fqdn-proxy">;

/** Start of the error of a gateway whose backend network is gone (how `recoverable` knows it). */
export const NETWORK_GONE = "backend network gone:";

function networkGone(network: string, twin: number): string {
  return `${NETWORK_GONE} the network '${network}' of twin ${twin} this gateway routes to is not on this node (its deployment was cancelled, or it was never deployed here); the gateway comes back by itself once the network is deployed again`;
}

export function gatewayManagers(deps: GatewayDeps): { name: WorkloadManager<WorkloadOf<"gateway-name-proxy">>; fqdn: WorkloadManager<WorkloadOf<"gateway-fqdn-proxy">> } {
  const domain = () => {
    if (!deps.domain) throw new Error("this node is not a gateway: it has no domain (publicConfig.domain)");
    return deps.domain;
  };
  const route = async (ctx: WorkloadContext, w: Gw, fqdn: string, own = false) => {
    const owner = deps.proxy.owner(fqdn);
    if (owner && owner !== ctx.workloadId) throw new Error(`${fqdn} is already served by another gateway on this node`);
    let namespace: string | undefined;
    if (w.data.network) {
      const net = deps.findNetwork(ctx, w.data.network);
      if (!net) throw new Error(networkGone(w.data.network, ctx.deployment.twin_id));
      namespace = net.namespace;
    }
    if (own) await deps.proveFqdn?.(fqdn, ctx.deployment.twin_id);
    // Checked addresses with explicit ports (http://ip:80 keeps its port; https defaults to 443).
    const backends: string[] = [];
    for (const b of w.data.backends) {
      const t = await deps.policy.resolve(w.data.tls_passthrough ? b : b.replace(/\/$/, ""));
      const host = t.family === 6 ? `[${t.address}]` : t.address;
      backends.push(w.data.tls_passthrough ? `${host}:${t.port}` : `${new URL(b).protocol}//${host}:${t.port}`);
    }
    await deps.proxy.set(ctx.workloadId, { fqdn, backends, tlsPassthrough: w.data.tls_passthrough, ...(namespace ? { namespace } : {}) });
    ctx.log.info({ fqdn, backends: w.data.backends.length, network: w.data.network }, "gateway serving");
    return { fqdn };
  };
  const common = {
    async deprovision(ctx: WorkloadContext) {
      await deps.proxy.remove(ctx.workloadId);
    },
    /**
     * The route is set and HAProxy serves it (a dead HAProxy makes the engine reconcile: adopt
     * starts it again), and its network, a cross-deployment reference checked level-based, is
     * still there: a gateway whose network went away is no longer alive (the engine re-adopts it,
     * which fails with NETWORK_GONE: state error, the route answers 503), and one in that error
     * recovers as soon as the network is back.
     */
    async alive(ctx: WorkloadContext, w: Gw) {
      return deps.proxy.has(ctx.workloadId) && deps.proxy.running() && (!w.data.network || deps.findNetwork(ctx, w.data.network) !== undefined);
    },
    async recoverable(ctx: WorkloadContext, w: Gw) {
      return !!w.data.network && !!w.result?.message.startsWith(NETWORK_GONE) && deps.findNetwork(ctx, w.data.network) !== undefined;
    },
  };
  return {
    name: {
      ...common,
      async provision(ctx, w) {
        const fqdn = `${w.data.name}.${domain()}`;
        const id = await deps.names.contractIdByName(w.data.name);
        if (!id) throw new Error(`name '${w.data.name}' has no name contract: create one (createNameContract) before deploying the gateway`);
        const c = await deps.names.getContract(id);
        if (c.state === "deleted") throw new Error(`the name contract of '${w.data.name}' is deleted`);
        if (c.twinId !== ctx.deployment.twin_id) throw new Error(`name '${w.data.name}' is held by twin ${c.twinId}, not by twin ${ctx.deployment.twin_id}`);
        return route(ctx, w, fqdn);
      },
      async adopt(ctx, w) {
        // gone when the proxy has no route for it; else set it again (checks and restarts HAProxy)
        if (!deps.proxy.has(ctx.workloadId)) return false;
        return this.provision(ctx, w).then(() => true, () => false);
      },
      // A changed gateway (new backends: a 3bot re-pointing it after a heal or a rolling update) is
      // applied in place: the route is replaced under the same workload id, new backends through
      // HAProxy's runtime API (no reload, no client connection closed), never removed first.
      async update(ctx, w) {
        return this.provision(ctx, w);
      },
    },
    fqdn: {
      ...common,
      async provision(ctx, w) {
        const d = domain();
        const fqdn = w.data.fqdn.toLowerCase().replace(/\.$/, "");
        if (fqdn === d || fqdn.endsWith(`.${d}`)) throw new Error(`${fqdn} is under the node's own domain: use a gateway-name-proxy`);
        return route(ctx, w, fqdn, true);
      },
      async adopt(ctx, w) {
        if (!deps.proxy.has(ctx.workloadId)) return false;
        return this.provision(ctx, w).then(() => true, () => false);
      },
      // A changed gateway (new backends: a 3bot re-pointing it after a heal or a rolling update) is
      // applied in place: the route is replaced under the same workload id, new backends through
      // HAProxy's runtime API (no reload, no client connection closed), never removed first.
      async update(ctx, w) {
        return this.provision(ctx, w);
      },
    },
  };
}
