// Planning a changed VM: in place (disks kept) unless node, network, range, public IP or a shrinking
// disk need a new VM; the plan names the disks a step destroys and applyPlan refuses it unasked.
import assert from "node:assert/strict";
import { test } from "node:test";
import { DataLossError } from "../errors/client-errors.ts";
import type { Grid } from "../grid.ts";
import { vmModelSchema, type VmModelInput } from "../models/vm-model.ts";
import type { VmInfo } from "../vms/vm-service.ts";
import { applyPlan, planVm, vmSpecHash } from "./apply-spec.ts";
import type { Spec } from "./spec-file.ts";

const base: VmModelInput = { name: "db", flist: "http://hub/flists/x/pg.fl", network: "net", env: { MODE: "one" }, disks: [{ name: "data", size: 1024, mountpoint: "/data" }] };
const model = (edit: Partial<VmModelInput> = {}) => vmModelSchema.parse({ ...base, ...edit });
const running = (spec: string): VmInfo => ({
  name: "db", nodeId: 2, contractId: 9, network: "net", ip: "10.60.2.2", state: "ok", message: "", flist: base.flist, cpu: 1, memoryMiB: 256,
  project: "p", spec, publicIp: "", publicIp6: "", disks: [{ name: "data", sizeMiB: 1024, mountpoint: "/data" }], hasPublicIp: false,
  consoleLog: "", namespace: "", reach: "",
});
const cur = running(vmSpecHash(model(), "10.60.0.0/16"));
const step = (edit: Partial<VmModelInput>, c: VmInfo = cur) => { const vm = model(edit); return planVm(vm, c, vmSpecHash(vm, "10.60.0.0/16"), "10.60.0.0/16"); };

test("unchanged: keep; env, entrypoint, cmd, cpu, memory, flist, a grown or added disk: update in place, no data lost", () => {
  assert.equal(step({}).action, "keep");
  for (const edit of [{ env: { MODE: "two" } }, { entrypoint: "sh -c 'exec pg'" }, { cmd: ["--port", "5433"] }, { cpu: 2 }, { memory: 512 }, { flist: "http://hub/flists/x/pg2.fl" },
    { disks: [{ name: "data", size: 2048, mountpoint: "/data" }] }, { disks: [...base.disks!, { name: "logs", size: 64, mountpoint: "/logs" }] }] as Array<Partial<VmModelInput>>) {
    const s = step(edit);
    assert.equal(s.action, "update", JSON.stringify(edit));
    assert.equal(s.dataLoss, undefined, JSON.stringify(edit));
    assert.match(s.reason ?? "", /disks kept/);
  }
});

test("a VM in error is updated (restarted) in place, not replaced", () => {
  assert.equal(step({}, { ...cur, state: "error" }).action, "update");
});

test("changes that need a new VM: replace, naming the disks lost", () => {
  const cases: Array<[Partial<VmModelInput>, RegExp]> = [
    [{ node: 3 }, /moves from node 2 to node 3/],
    [{ network: "other" }, /network net → other/],
    [{ public_ip: true }, /public IP added/],
    [{ disks: [{ name: "data", size: 512, mountpoint: "/data" }] }, /shrinks/],
  ];
  for (const [edit, why] of cases) {
    const s = step(edit);
    assert.equal(s.action, "replace", JSON.stringify(edit));
    assert.match(s.reason ?? "", why);
    assert.deepEqual(s.dataLoss, ["data"]);
  }
  assert.equal(step({}, { ...cur, state: "unreachable" }).action, "replace");
  const moved = planVm(model(), cur, vmSpecHash(model(), "10.70.0.0/16"), "10.70.0.0/16");
  assert.equal(moved.action, "replace");
  assert.match(moved.reason ?? "", /outside the network's new range/);
});

test("dropping a disk in an update loses that disk only", () => {
  const s = step({ disks: [] });
  assert.equal(s.action, "update");
  assert.deepEqual(s.dataLoss, ["data"]);
});

test("applyPlan refuses a plan that destroys disks before touching anything, unless allowed", async () => {
  const touched: string[] = [];
  const grid = new Proxy({}, { get: (_t, k) => { touched.push(String(k)); throw new Error("the grid must not be touched"); } }) as Grid;
  const spec: Spec = { file: "x.yaml", project: "p", networks: [], vms: [], zdbs: [], gateways: [] };
  await assert.rejects(applyPlan(grid, spec, [{ action: "replace", kind: "vm", name: "db", nodeId: 2, reason: "network net → other", dataLoss: ["data"] }]),
    (e: unknown) => e instanceof DataLossError && e.exitCode === 2 && /replace vm 'db' destroys disk\(s\) data \(network net → other\)/.test(e.message) && /--allow-data-loss/.test(e.hint ?? ""));
  assert.deepEqual(touched, []);
  await applyPlan(grid, spec, [{ action: "delete", kind: "vm", name: "gone", dataLoss: ["data"] }], { allowDataLoss: true }).catch(() => undefined);
  assert.ok(touched.length > 0, "allowed: it goes ahead");
});
