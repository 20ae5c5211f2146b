// Removing a node against a real kube-apiserver (+ etcd) run as host processes: a node whose zgrid
// PersistentVolume is bound to a claim is refused with a typed error and left untouched (not even
// cordoned); with dropVolume, or when the volume is unclaimed, the node and its volume are deleted;
// a node that never joined is fine. The pods and Nodes here are API objects (no kubelet runs).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { CoreV1Api } from "@kubernetes/client-node";
import { drainAndDeleteNode } from "./drain-node.ts";
import { K8sVolumeInUseError } from "./errors.ts";
import { controlPlaneMissing, coreApiOf, startControlPlane, type ControlPlane } from "./testing/control-plane.ts";

const missing = controlPlaneMissing();
const code = (e: unknown) => (e as { code?: number }).code;

describe("drainAndDeleteNode on a real API server", { skip: missing || false, timeout: 180_000 }, () => {
  let cp: ControlPlane;
  let core: CoreV1Api;
  before(async () => {
    cp = await startControlPlane();
    core = coreApiOf(cp);
  });
  after(async () => {
    await cp?.stop();
  });

  const makeNode = (name: string) => core.createNode({ body: { metadata: { name, labels: { "kubernetes.io/hostname": name } } } });
  const makePv = (node: string, claim?: string) => core.createPersistentVolume({
    body: {
      metadata: { name: `zgrid-pv-${node}` },
      spec: {
        capacity: { storage: "100Mi" }, accessModes: ["ReadWriteOnce"], storageClassName: "zgrid-local", persistentVolumeReclaimPolicy: "Retain",
        local: { path: "/var/lib/zk8s-pv/data" },
        nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [node] }] }] } },
        ...(claim ? { claimRef: { namespace: "default", name: claim } } : {}),
      },
    },
  });
  const exists = async (read: () => Promise<unknown>) => read().then(() => true, (e: unknown) => { if (code(e) === 404) return false; throw e; });
  /** Deleted, or being deleted (the pv-protection finalizer waits for a controller this API server runs without). */
  const pvGone = async (name: string) => core.readPersistentVolume({ name }).then((pv) => Boolean(pv.metadata?.deletionTimestamp), (e: unknown) => { if (code(e) === 404) return true; throw e; });

  test("a bound volume: refused, typed, the node untouched", async () => {
    await makeNode("w1");
    await makePv("w1", "db-data");
    await assert.rejects(drainAndDeleteNode(cp.kubeconfig, "w1", { timeoutMs: 5_000 }), (e: unknown) => {
      assert.ok(e instanceof K8sVolumeInUseError);
      assert.equal(e.code, "K8S_VOLUME_IN_USE");
      assert.match(e.message, /zgrid-pv-w1, bound to claim default\/db-data/);
      assert.match(e.hint ?? "", /--drop-volumes/);
      return true;
    });
    const node = await core.readNode({ name: "w1" });
    assert.notEqual(node.spec?.unschedulable, true, "not cordoned");
    assert.ok(await exists(() => core.readPersistentVolume({ name: "zgrid-pv-w1" })));
  });

  test("dropVolume: the node and its bound volume are deleted", async () => {
    await drainAndDeleteNode(cp.kubeconfig, "w1", { timeoutMs: 5_000, dropVolume: true });
    assert.equal(await exists(() => core.readNode({ name: "w1" })), false);
    assert.ok(await pvGone("zgrid-pv-w1"));
  });

  test("an unclaimed volume goes with its node; a node without one, or that never joined, is fine", async () => {
    await makeNode("w2");
    await makePv("w2");
    await makeNode("w3");
    await drainAndDeleteNode(cp.kubeconfig, "w2", { timeoutMs: 5_000 });
    await drainAndDeleteNode(cp.kubeconfig, "w3", { timeoutMs: 5_000 });
    await drainAndDeleteNode(cp.kubeconfig, "never-joined", { timeoutMs: 5_000 });
    assert.equal(await exists(() => core.readNode({ name: "w2" })), false);
    assert.ok(await pvGone("zgrid-pv-w2"));
    assert.equal(await exists(() => core.readNode({ name: "w3" })), false);
  });
});
