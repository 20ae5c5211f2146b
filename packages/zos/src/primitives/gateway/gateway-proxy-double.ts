/**
 * Test double of HaproxyGateway for engine-level gateway tests (labelled: the real HAProxy is
 * driven by haproxy-config.test.ts, gateway-backend-attacks.test.ts and the e2e tests). It keeps
 * the routes as HaproxyGateway would and records every change in order (`ops`), so a test can
 * assert that an update swapped a route in place rather than removing it first.
 *
 * @example
 * ```ts
 * const proxy = new RecordingProxy();
 * gatewayManagers({ proxy: proxy as unknown as HaproxyGateway, … });
 * proxy.ops; // ["set 9-30-gw http://10.40.2.5:80"]
 * ```
 */
import type { GatewayRoute } from "./haproxy-gateway.ts";

export class RecordingProxy {
  routes = new Map<string, GatewayRoute>();
  ops: string[] = [];
  owner(fqdn: string): string | undefined {
    for (const [id, r] of this.routes) if (r.fqdn === fqdn) return id;
    return undefined;
  }
  set(id: string, route: GatewayRoute): Promise<void> {
    this.ops.push(`set ${id} ${route.backends.join(",")}`);
    this.routes.set(id, route);
    return Promise.resolve();
  }
  has(id: string): boolean {
    return this.routes.has(id);
  }
  /** HAProxy itself is not run here: always serving. */
  running(): boolean {
    return true;
  }
  remove(id: string): Promise<void> {
    this.ops.push(`remove ${id}`);
    this.routes.delete(id);
    return Promise.resolve();
  }
}
