import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ValidationError } from "../errors/validation-error.ts";
import { sampleDeploymentJson } from "../testing/sample-deployment.ts";
import { parseDeployment } from "./parse-deployment.ts";
import { planUpdate } from "./update-deployment.ts";

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any
const current = parseDeployment({ ...sampleDeploymentJson(), contract_id: 9 });
const next = (change: (j: Json) => void) => {
  const j: Json = { ...sampleDeploymentJson({ version: 1 }), contract_id: 9 };
  change(j);
  return parseDeployment(j);
};

describe("planUpdate", () => {
  test("adds, updates, removes, keeps", () => {
    const plan = planUpdate(current, next((j) => {
      j.workloads[1].data.size *= 2; // zmount grows
      j.workloads[1].version = 1;
      j.workloads.splice(5, 1); // zdb removed
      j.workloads.push({ version: 1, name: "disk2", type: "zmount", data: { size: 2 ** 30 } });
    }));
    assert.deepEqual(plan.added.map((w) => w.name), ["disk2"]);
    assert.deepEqual(plan.updated.map((w) => w.name), ["data"]);
    assert.deepEqual(plan.removed.map((w) => w.name), ["db"]);
    assert.equal(plan.unchanged.length, 6);
  });

  test("a zmachine changes in place (the node restarts it with its disks)", () => {
    const plan = planUpdate(current, next((j) => {
      j.workloads[3].data.compute_capacity.cpu = 4;
      j.workloads[3].data.env = { MODE: "two" };
      j.workloads[3].version = 1;
    }));
    assert.deepEqual(plan.updated.map((w) => w.name), ["vm"]);
    assert.ok(plan.unchanged.some((w) => w.name === "data"), "its disk is unchanged");
  });

  test("a gateway's backends change in place (a 3bot re-points it after a heal)", () => {
    const plan = planUpdate(current, next((j) => {
      const gw = j.workloads.find((w: Json) => w.name === "gw");
      gw.data.backends = ["http://10.20.2.5:80", "http://10.20.4.5:80"];
      gw.version = 1;
    }));
    assert.deepEqual(plan.updated.map((w) => w.name), ["gw"]);
  });

  const refusals: Array<[string, (j: Json) => void, string]> = [
    ["version not +1", (j) => { j.version = 2; }, "version"],
    ["twin changed", (j) => { j.twin_id = 8; j.signature_requirement.requests[0].twin_id = 8; }, "twin_id"],
    ["contract changed", (j) => { j.contract_id = 10; }, "contract_id"],
    ["ip changed in place", (j) => { j.workloads[2].data.v6 = true; j.workloads[2].version = 1; }, "data"],
    ["type changed", (j) => { j.workloads[1].type = "volume"; j.workloads[3].data.mounts = []; j.workloads[1].version = 1; }, "type"],
    ["changed without version bump", (j) => { j.workloads[1].data.size *= 2; }, "version"],
    ["new workload with old version", (j) => { j.workloads.push({ version: 0, name: "disk2", type: "zmount", data: { size: 2 ** 30 } }); }, "version"],
  ];
  for (const [name, change, field] of refusals) {
    test(`refuses: ${name}`, () => {
      assert.throws(() => planUpdate(current, next(change)), (e) => e instanceof ValidationError && e.issues.some((i) => i.field === field));
    });
  }
});
