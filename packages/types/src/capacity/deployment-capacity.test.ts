import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDeployment } from "../deployment/parse-deployment.ts";
import { sampleDeploymentJson } from "../testing/sample-deployment.ts";
import { minRootSize } from "../workloads/zmachine.ts";
import { GiB, MiB } from "./capacity.ts";
import { deploymentCapacity } from "./deployment-capacity.ts";

test("deployment capacity sums its workloads (REFERENCE.md per type)", () => {
  const d = parseDeployment(sampleDeploymentJson());
  // vm: 2 cpu, 2 GiB, root 2 GiB; zmount 10 GiB; zdb 5 GiB hdd; ip v4 = 1
  assert.deepEqual(deploymentCapacity(d), { cru: 2, mru: 2 * GiB, sru: 12 * GiB, hru: 5 * GiB, ipv4u: 1 });
});

test("root disk 0 reserves the minimum root size", () => {
  const json = sampleDeploymentJson() as any; // eslint-disable-line @typescript-eslint/no-explicit-any
  json.workloads[3].data.size = 0;
  const d = parseDeployment(json);
  assert.equal(deploymentCapacity(d).sru, 10 * GiB + 500 * MiB);
  assert.equal(minRootSize(16, 32 * GiB), 2 * GiB);
  assert.equal(minRootSize(1, 1 * GiB), 500 * MiB);
});
