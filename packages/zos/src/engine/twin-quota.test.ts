import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDeployment, type Deployment } from "@zgrid/types";
import { sampleDeploymentJson } from "@zgrid/types/testing";
import { TwinQuotaError } from "./engine-errors.ts";
import { checkTwinQuota, DEFAULT_TWIN_QUOTAS } from "./twin-quota.ts";

const sample = parseDeployment(sampleDeploymentJson());
const net = sample.workloads.find((w) => w.type === "network")!;
const withNetworks = (n: number, state: "ok" | "deleted" = "ok"): Deployment => ({
  ...sample, workloads: Array.from({ length: n }, (_, i) => ({ ...net, name: `n${i}`, result: { created: 1, state, message: "" } })),
});

test("64 networks in one deployment are refused: one twin holds at most 16 (each a wireguard-go process)", () => {
  assert.throws(() => checkTwinQuota(DEFAULT_TWIN_QUOTAS, [], withNetworks(64)), (e: unknown) => {
    assert.ok(e instanceof TwinQuotaError);
    assert.equal(e.code, "TWIN_QUOTA");
    assert.match(e.message, /would hold 64 networks on this node; one twin may hold 16/);
    return true;
  });
  checkTwinQuota(DEFAULT_TWIN_QUOTAS, [], withNetworks(16));
});

test("the twin's other live deployments count, deleted ones do not", () => {
  assert.throws(() => checkTwinQuota(DEFAULT_TWIN_QUOTAS, [withNetworks(10)], withNetworks(7)), /17 networks/);
  checkTwinQuota(DEFAULT_TWIN_QUOTAS, [withNetworks(10, "deleted")], withNetworks(16));
  assert.throws(() => checkTwinQuota({ ...DEFAULT_TWIN_QUOTAS, gateways: 0 }, [], sample), /gateways/);
});
