import assert from "node:assert/strict";
import { test } from "node:test";
import { DataLossError, InputError, type VmInfo } from "@zgrid/client";
import { checkClusterDataLoss, clusterSpecMarker, clusterSpecSchema, planClusters, type ClusterSpec } from "./cluster-spec.ts";
import type { ClusterInfo } from "./k8s-service.ts";

const spec = (yamlish: unknown): ClusterSpec[] => clusterSpecSchema.parse(yamlish);
const vm = (name: string, spec?: string): VmInfo => ({ name, nodeId: 1, contractId: 1, network: "k8s_x", ip: "10.1.2.3", publicIp: "", publicIp6: "", state: "ok", message: "", flist: "", cpu: 2, memoryMiB: 2048, disks: [], hasPublicIp: false, consoleLog: "", namespace: "", reach: "", ...(spec ? { spec } : {}) }) as VmInfo;
/** A cluster as K8sService.list() describes it: its master's contract carries the marker. */
const cluster = (name: string, workers: number, marker?: string): ClusterInfo => ({
  name, master: vm(`${name}_m1`, marker), workers: Array.from({ length: workers }, (_, i) => vm(`${name}_w${i + 1}`)), apiServer: "https://10.1.2.3:6443", network: "k8s_x",
});

test("the marker ignores the image and the worker count, and sees every other field", () => {
  const [a] = spec([{ name: "demo", workers: 2, flist: "http://hub/a.fl" }]);
  const [b] = spec([{ name: "demo", workers: 5, flist: "http://hub/b.fl" }]);
  const [c] = spec([{ name: "demo", workers: 2, pv_size: 512 }]);
  assert.equal(clusterSpecMarker("shop", a!), clusterSpecMarker("shop", b!));
  assert.notEqual(clusterSpecMarker("shop", a!), clusterSpecMarker("shop", c!));
  assert.notEqual(clusterSpecMarker("shop", a!), clusterSpecMarker("blog", a!));
  assert.match(clusterSpecMarker("shop", a!), /^cluster:shop:[0-9a-f]{12}$/);
});

test("plan: create, keep, scale, replace (data loss), delete (data loss); others' clusters untouched", () => {
  const desired = spec([{ name: "keep", workers: 1 }, { name: "grow", workers: 3 }, { name: "changed", workers: 1, worker: { memory: 4096 } }, { name: "fresh" }]);
  const mark = (name: string) => clusterSpecMarker("shop", desired.find((d) => d.name === name)!);
  const existing = [
    cluster("keep", 1, mark("keep")),
    cluster("grow", 1, mark("grow")),
    cluster("changed", 1, clusterSpecMarker("shop", spec([{ name: "changed", workers: 1 }])[0]!)),
    cluster("gone", 2, "cluster:shop:0123456789ab"),
    cluster("cli", 1),                                  // made by `zgrid k8s create`
    cluster("other", 1, "cluster:blog:0123456789ab"),   // another project's
  ];
  const plan = planClusters("shop", desired, existing);
  assert.deepEqual(plan.map((s) => `${s.action} ${s.name}`), ["keep keep", "scale grow", "replace changed", "create fresh", "delete gone"]);
  assert.deepEqual(plan.find((s) => s.name === "grow")!.workers, { from: 1, to: 3 });
  for (const n of ["changed", "gone"]) assert.match(plan.find((s) => s.name === n)!.dataLoss!.join(), /etcd, PersistentVolumes/);
  assert.equal(plan.filter((s) => s.dataLoss).length, 2, "only the rebuild and the removal lose data");
});

test("a spec naming a cluster it does not own, or one name twice, is refused with what to do", () => {
  const refuse = (desired: ClusterSpec[], existing: ClusterInfo[], re: RegExp) =>
    assert.throws(() => planClusters("shop", desired, existing), (e: unknown) => e instanceof InputError && re.test(e.message) && !!e.hint);
  refuse(spec([{ name: "cli" }]), [cluster("cli", 1)], /cluster 'cli' exists outside project 'shop'/);
  refuse(spec([{ name: "other" }]), [cluster("other", 1, "cluster:blog:0123456789ab")], /exists outside project 'shop'/);
  refuse(spec([{ name: "twice" }, { name: "twice", workers: 2 }]), [], /used twice/);
});

test("data loss is refused unless allowed, naming every step; a plan without loss passes", () => {
  const plan = planClusters("shop", [], [cluster("gone", 1, "cluster:shop:0123456789ab")]);
  assert.throws(() => checkClusterDataLoss(plan, false), (e: unknown) => e instanceof DataLossError && /delete cluster 'gone': etcd/.test(e.message) && /--allow-data-loss/.test(e.hint ?? ""));
  checkClusterDataLoss(plan, true);
  checkClusterDataLoss(planClusters("shop", spec([{ name: "new" }]), []), false);
});

test("the section's schema: the cluster model's checks, the image optional", () => {
  assert.equal(spec([{ name: "demo" }])[0]!.workers, 1);
  assert.throws(() => spec([{ name: "Demo" }]), /lower-case/);
  assert.throws(() => spec([{ name: "demo", workers: 99 }]));
  assert.throws(() => spec([{ name: "demo", surprise: 1 }]));
});
