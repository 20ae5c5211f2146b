// The cluster model refuses what would break names or the bootstrap, and fills sane defaults.
import assert from "node:assert/strict";
import { test } from "node:test";
import { clusterModelSchema, networkOf, nodeNameOf, vmNameOf } from "./cluster-model.ts";

const flist = "http://127.0.0.1:1/flists/0xabc/kubernetes-v1.20.2.fl";

test("defaults: one master, one worker, sizes, a network per cluster", () => {
  const c = clusterModelSchema.parse({ name: "demo", flist });
  assert.equal(c.masters, 1);
  assert.equal(c.workers, 1);
  assert.equal(c.master.memory, 2048);
  assert.equal(networkOf(c), "k8s_demo");
  assert.equal(vmNameOf("my-c", "w", 2), "my_c_w2");
  assert.equal(nodeNameOf("my-c", "w", 2), "my-c-w2");
});

test("bad input is refused with the field named", () => {
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ name: "Demo", flist }, /name/],
    [{ name: "a_b", flist }, /name/],
    [{ name: "x".repeat(21), flist }, /name/],
    [{ name: "demo", flist: "not a url" }, /flist/],
    [{ name: "demo", flist, masters: 3 }, /masters/],
    [{ name: "demo", flist, workers: 21 }, /workers/],
    [{ name: "demo", flist, workers: -1 }, /workers/],
    [{ name: "demo", flist, registries: ["http://x:5000"] }, /registries/],
    [{ name: "demo", flist, registries: ["a b"] }, /registries/],
    [{ name: "demo", flist, master: { memory: 256 } }, /master/],
    [{ name: "demo", flist, pv_size: -1 }, /pv_size/],
    [{ name: "demo", flist, pv_size: 1.5 }, /pv_size/],
    [{ name: "demo", flist, extra: 1 }, /extra|Unrecognized/],
  ];
  for (const [input, field] of bad) {
    const r = clusterModelSchema.safeParse(input);
    assert.equal(r.success, false, JSON.stringify(input));
    assert.match(JSON.stringify(r.error!.issues), field, JSON.stringify(input));
  }
});
