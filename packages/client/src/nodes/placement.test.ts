import assert from "node:assert/strict";
import { test } from "node:test";
import { vmModelSchema } from "../models/vm-model.ts";
import { DEFAULT_PLACEMENT, placementOrder, placementSchema, type PlacementCandidate } from "./placement.ts";

const GiB = 1024 ** 3;
const node = (nodeId: number, mruGiB: number, cru: number, standby = false): PlacementCandidate => ({ nodeId, standby, free: { cru, mru: mruGiB * GiB, sru: 100 * GiB, hru: 0 } });

test("pack (the default) puts the fullest node that fits first: least free memory, then least free vCPUs", () => {
  assert.equal(DEFAULT_PLACEMENT, "pack");
  const nodes = [node(1, 60, 16), node(2, 4, 8), node(3, 12, 30), node(4, 4, 2)];
  assert.deepEqual(placementOrder(nodes).map((n) => n.nodeId), [4, 2, 3, 1]);
  assert.deepEqual(placementOrder(nodes, "pack").map((n) => n.nodeId), [4, 2, 3, 1]);
});

test("spread puts the emptiest node first (most free memory, then most free vCPUs)", () => {
  const nodes = [node(1, 60, 16), node(2, 4, 8), node(3, 12, 30), node(4, 60, 20)];
  assert.deepEqual(placementOrder(nodes, "spread").map((n) => n.nodeId), [4, 1, 3, 2]);
});

test("standby nodes come after every awake node, whatever the policy", () => {
  const nodes = [node(1, 200, 32, true), node(2, 60, 16), node(3, 2, 1, true), node(4, 8, 4)];
  assert.deepEqual(placementOrder(nodes, "pack").map((n) => n.nodeId), [4, 2, 3, 1]);
  assert.deepEqual(placementOrder(nodes, "spread").map((n) => n.nodeId), [2, 4, 1, 3]);
});

test("ties go to the lower node id (every client orders alike) and the input is not reordered", () => {
  const nodes = [node(7, 10, 4), node(3, 10, 4), node(5, 10, 4)];
  assert.deepEqual(placementOrder(nodes, "pack").map((n) => n.nodeId), [3, 5, 7]);
  assert.deepEqual(placementOrder(nodes, "spread").map((n) => n.nodeId), [3, 5, 7]);
  assert.deepEqual(nodes.map((n) => n.nodeId), [7, 3, 5]);
  assert.deepEqual(placementOrder([]), []);
});

test("the policy name is validated", () => {
  assert.equal(placementSchema.parse("spread"), "spread");
  assert.equal(placementSchema.safeParse("fill").success, false);
});

test("a VM asks for a placement in its model (`spread` to land apart); anything else is refused", () => {
  const flist = "http://hub/flists/0xabc/busybox.fl";
  assert.equal(vmModelSchema.parse({ name: "web", flist, placement: "spread" }).placement, "spread");
  assert.equal(vmModelSchema.parse({ name: "web", flist }).placement, undefined);
  assert.equal(vmModelSchema.safeParse({ name: "web", flist, placement: "fill" }).success, false);
});
