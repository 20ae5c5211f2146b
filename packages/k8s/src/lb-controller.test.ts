// The LoadBalancer controller against a real kube-apiserver (+ etcd) run as host processes: a
// Service of type LoadBalancer gets an endpoint and its status; ClusterIP Services are left
// alone; a deleted Service loses its endpoint; one failing Service does not stop the others; a
// second pass changes nothing. The provider here records calls (labelled test double of the
// zgrid side: ZgridLbProvider makes real gateways and is covered by the k8s e2e).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { CoreV1Api } from "@kubernetes/client-node";
import { LoadBalancerController, type LbService, type LoadBalancerProvider } from "./lb-controller.ts";
import { controlPlaneMissing, coreApiOf, startControlPlane, type ControlPlane } from "./testing/control-plane.ts";

class RecordingProvider implements LoadBalancerProvider {
  readonly endpoints = new Map<string, LbService>();
  ensureCalls = 0;
  failFor = new Set<string>();
  keyOf(namespace: string, name: string): string {
    return `${namespace}-${name}`;
  }
  ensure(svc: LbService): Promise<{ hostname: string }> {
    this.ensureCalls++;
    const key = this.keyOf(svc.namespace, svc.name);
    if (this.failFor.has(key)) return Promise.reject(new Error("no capacity"));
    this.endpoints.set(key, svc);
    return Promise.resolve({ hostname: `${key}.gw.test` });
  }
  list(): Promise<string[]> {
    return Promise.resolve([...this.endpoints.keys()]);
  }
  remove(key: string): Promise<void> {
    this.endpoints.delete(key);
    return Promise.resolve();
  }
}

const missing = controlPlaneMissing();
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v ?? null));
describe("LoadBalancer controller on a real API server", { skip: missing || false, timeout: 180_000 }, () => {
  let cp: ControlPlane;
  let core: CoreV1Api;
  before(async () => {
    cp = await startControlPlane();
    core = coreApiOf(cp);
  });
  after(async () => {
    await cp?.stop();
  });

  const svc = (name: string, type: string) => ({ metadata: { name }, spec: { type, selector: { app: name }, ports: [{ port: 80, targetPort: 8080 as unknown as object }] } });

  test("LoadBalancer Services get an endpoint and a status; others are left alone; deletion removes", async () => {
    await core.createNamespacedService({ namespace: "default", body: svc("web", "LoadBalancer") as never });
    await core.createNamespacedService({ namespace: "default", body: svc("internal", "ClusterIP") as never });
    await core.createNamespacedService({ namespace: "default", body: svc("broken", "LoadBalancer") as never });
    const provider = new RecordingProvider();
    provider.failFor.add("default-broken");
    const c = new LoadBalancerController({ kubeconfig: cp.kubeconfig, provider });
    const r = await c.reconcile();
    assert.deepEqual(r.ensured, ["default/web"]);
    assert.deepEqual(r.failed.map((f) => f.key), ["default/broken"]);
    const web = await core.readNamespacedService({ name: "web", namespace: "default" });
    assert.deepEqual(plain(web.status?.loadBalancer?.ingress), [{ hostname: "default-web.gw.test" }]);
    const ep = provider.endpoints.get("default-web")!;
    assert.equal(ep.ports[0]!.port, 80);
    assert.equal(ep.ports[0]!.nodePort, web.spec!.ports![0]!.nodePort, "the endpoint targets the node port the API server allocated");
    assert.ok(!provider.endpoints.has("default-internal"));
    // the failing one recovers on a later pass
    provider.failFor.clear();
    const r2 = await c.reconcile();
    assert.deepEqual(r2.ensured.sort(), ["default/broken", "default/web"]);
    assert.deepEqual(plain((await core.readNamespacedService({ name: "broken", namespace: "default" })).status?.loadBalancer?.ingress), [{ hostname: "default-broken.gw.test" }]);
    const rv = (await core.readNamespacedService({ name: "web", namespace: "default" })).metadata!.resourceVersion;
    await c.reconcile();
    assert.equal((await core.readNamespacedService({ name: "web", namespace: "default" })).metadata!.resourceVersion, rv, "a converged pass writes nothing");
    await core.deleteNamespacedService({ name: "web", namespace: "default" });
    const r3 = await c.reconcile();
    assert.deepEqual(r3.removed, ["default-web"]);
    assert.deepEqual([...provider.endpoints.keys()], ["default-broken"]);
  });

  test("start/stop runs passes in the background and stops cleanly", async () => {
    const provider = new RecordingProvider();
    const c = new LoadBalancerController({ kubeconfig: cp.kubeconfig, provider, intervalMs: 100 });
    c.start();
    const end = Date.now() + 20_000;
    while (provider.ensureCalls < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    await c.stop();
    const calls = provider.ensureCalls;
    assert.ok(calls >= 2);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(provider.ensureCalls, calls, "no pass after stop()");
  });
});
