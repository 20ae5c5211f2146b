/**
 * zgrid as the LoadBalancer provider of a cluster: a Service's endpoint is a zgrid name gateway
 * `<gateway name>.<node domain>` proxying HTTP to the Service's node port on a worker VM (kube-proxy
 * opens it on every node). Gateways carry the cluster's project (`k8s-<cluster>`), so `k8s rm`
 * finds and removes them. Gateway names: `<namespace>-<service>` cut to fit, plus a hash of
 * cluster/namespace/name (no two Services share one; 3..36 of a-z 0-9 - _).
 *
 * @example
 * ```ts
 * const provider = new ZgridLbProvider(grid, "demo");
 * new LoadBalancerController({ kubeconfig, provider }).start();
 * ```
 */
import { createHash } from "node:crypto";
import { InputError, type Grid } from "@zgrid/client";
import { projectOf } from "./cluster-model.ts";
import type { LbService, LoadBalancerProvider } from "./lb-controller.ts";

export function gatewayNameOf(cluster: string, namespace: string, name: string): string {
  const hash = createHash("sha256").update(`${cluster}/${namespace}/${name}`).digest("hex").slice(0, 6);
  const base = `${namespace}-${name}`.toLowerCase().replace(/[^a-z0-9_-]/g, "-").slice(0, 29);
  return `${base}-${hash}`;
}

export class ZgridLbProvider implements LoadBalancerProvider {
  private readonly grid: Grid;
  private readonly cluster: string;
  constructor(grid: Grid, cluster: string) {
    this.grid = grid;
    this.cluster = cluster;
  }

  keyOf(namespace: string, name: string): string {
    return gatewayNameOf(this.cluster, namespace, name);
  }

  async ensure(svc: LbService): Promise<{ hostname: string }> {
    const name = this.keyOf(svc.namespace, svc.name);
    const port = (svc.ports.find((p) => p.port === 80) ?? svc.ports[0])!;
    const existing = (await this.grid.gateways.list()).find((g) => g.name === name);
    if (existing) return { hostname: existing.fqdn };
    const vms = (await this.grid.vms.list()).filter((v) => v.project === projectOf(this.cluster) && v.state === "ok");
    const vm = vms.find((v) => /_w\d+$/.test(v.name)) ?? vms[0];
    if (!vm) throw new InputError(`cluster '${this.cluster}' has no running VM to publish ${svc.namespace}/${svc.name} from`);
    const gw = await this.grid.gateways.create({ name, vm: vm.name, port: port.nodePort, project: projectOf(this.cluster) });
    return { hostname: gw.fqdn };
  }

  async list(): Promise<string[]> {
    return (await this.grid.gateways.list()).filter((g) => g.project === projectOf(this.cluster)).map((g) => g.name);
  }

  async remove(key: string): Promise<void> {
    await this.grid.gateways.delete(key);
  }
}
