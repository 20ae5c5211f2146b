/**
 * A LoadBalancer controller, as cloud providers run one: every Service of type LoadBalancer gets a
 * public endpoint from a provider (zgrid: a gateway, see zgrid-lb-provider.ts) and its address is
 * written back into the Service's status.loadBalancer.ingress. Level-based and idempotent: each
 * pass lists the Services and the provider's endpoints, then converges (makes what is missing,
 * removes what no Service wants any more, fixes the status). A failure on one Service is logged
 * and retried on the next pass; it never stops the others.
 *
 * @example
 * ```ts
 * const c = new LoadBalancerController({ kubeconfig, provider, intervalMs: 5000 });
 * await c.reconcile();   // one pass
 * c.start(); … await c.stop();
 * ```
 */
import { CoreV1Api, KubeConfig, type V1Service } from "@kubernetes/client-node";
import { createLogger } from "@zgrid/log";

const log = createLogger("k8s-lb");

export interface LbService {
  namespace: string;
  name: string;
  /** TCP ports with the node port kube-proxy opened on every node. */
  ports: Array<{ port: number; nodePort: number; name?: string }>;
}

/** What the controller needs from a cloud: make/keep, list and remove public endpoints. */
export interface LoadBalancerProvider {
  /** Makes (or keeps) the endpoint of a Service; returns what goes into its status. */
  ensure(svc: LbService): Promise<{ ip?: string; hostname?: string }>;
  /** The provider's key of a Service's endpoint (e.g. a gateway name). */
  keyOf(namespace: string, name: string): string;
  /** The keys of every endpoint the provider holds for this cluster. */
  list(): Promise<string[]>;
  remove(key: string): Promise<void>;
}

export interface LbPassResult {
  ensured: string[];
  removed: string[];
  failed: Array<{ key: string; error: string }>;
}

export class LoadBalancerController {
  private readonly core: CoreV1Api;
  private readonly provider: LoadBalancerProvider;
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(o: { kubeconfig: string; provider: LoadBalancerProvider; intervalMs?: number }) {
    const kc = new KubeConfig();
    kc.loadFromString(o.kubeconfig);
    this.core = kc.makeApiClient(CoreV1Api);
    this.provider = o.provider;
    this.intervalMs = o.intervalMs ?? 5000;
  }

  async reconcile(): Promise<LbPassResult> {
    const result: LbPassResult = { ensured: [], removed: [], failed: [] };
    const services = (await this.core.listServiceForAllNamespaces()).items.filter((s) => s.spec?.type === "LoadBalancer");
    const wanted = new Set<string>();
    for (const s of services) {
      const key = `${s.metadata!.namespace}/${s.metadata!.name}`;
      wanted.add(this.provider.keyOf(s.metadata!.namespace!, s.metadata!.name!));
      try {
        const ports = (s.spec!.ports ?? []).filter((p) => (p.protocol ?? "TCP") === "TCP" && p.nodePort).map((p) => ({ port: p.port, nodePort: p.nodePort!, ...(p.name ? { name: p.name } : {}) }));
        if (ports.length === 0) throw new Error("no TCP port with a node port");
        const addr = await this.provider.ensure({ namespace: s.metadata!.namespace!, name: s.metadata!.name!, ports });
        await this.writeStatus(s, addr);
        result.ensured.push(key);
      } catch (e) {
        result.failed.push({ key, error: (e as Error).message });
        log.warn({ service: key, error: (e as Error).message }, "load balancer for a service failed");
      }
    }
    for (const key of await this.provider.list()) {
      if (wanted.has(key)) continue;
      try {
        await this.provider.remove(key);
        result.removed.push(key);
      } catch (e) {
        result.failed.push({ key, error: (e as Error).message });
      }
    }
    return result;
  }

  private async writeStatus(s: V1Service, addr: { ip?: string; hostname?: string }): Promise<void> {
    const ingress = [{ ...(addr.ip ? { ip: addr.ip } : {}), ...(addr.hostname ? { hostname: addr.hostname } : {}) }];
    if (JSON.stringify(s.status?.loadBalancer?.ingress ?? []) === JSON.stringify(ingress)) return;
    s.status = { ...s.status, loadBalancer: { ingress } };
    await this.core.replaceNamespacedServiceStatus({ name: s.metadata!.name!, namespace: s.metadata!.namespace!, body: s });
  }

  start(): void {
    const tick = () => {
      this.running = this.reconcile().catch((e: unknown) => log.warn({ error: (e as Error).message }, "load balancer pass failed")).finally(() => {
        if (this.timer !== undefined) this.timer = setTimeout(tick, this.intervalMs);
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
