import assert from "node:assert/strict";
import { test } from "node:test";
import type { Deployment } from "@zgrid/types";
import { openDeploymentStore } from "../engine/deployment-store.ts";
import { startMetricsServer, zosMetricsText } from "./zos-metrics.ts";

const GIB = 2 ** 30;

function deployment(contractId: number, state: "ok" | "error"): Deployment {
  return {
    version: 0, twin_id: 7, contract_id: contractId, metadata: "", description: "", expiration: 0,
    signature_requirement: { requests: [], weight_required: 1, signatures: [], signature_style: "" },
    workloads: [{ version: 0, name: "disk", type: "zmount", data: { size: GIB }, metadata: "", description: "", result: { created: 100, state, message: "" } }],
  } as unknown as Deployment;
}

test("zosd metrics: workloads by state, provision latency from the history, capacity, served over HTTP", async (t) => {
  const store = openDeploymentStore(":memory:");
  t.after(() => store.close());
  store.put(deployment(1, "ok"));
  store.put(deployment(2, "error"));
  store.recordChange({ contract_id: 1, name: "disk", type: "zmount", version: 0, state: "init", message: "", at: 100 });
  store.recordChange({ contract_id: 1, name: "disk", type: "zmount", version: 0, state: "ok", message: "", at: 103 });
  store.recordChange({ contract_id: 2, name: "disk", type: "zmount", version: 0, state: "init", message: "", at: 100 });
  store.recordChange({ contract_id: 2, name: "disk", type: "zmount", version: 0, state: "error", message: "no", at: 140 });
  const text = zosMetricsText({ store, total: { cru: 4, mru: 8 * GIB, sru: 100 * GIB, hru: 0 } });
  assert.match(text, /^zgrid_zos_deployments 2$/m);
  assert.match(text, /^zgrid_zos_workloads\{type="zmount",state="ok"\} 1$/m);
  assert.match(text, /^zgrid_zos_workloads\{type="zmount",state="error"\} 1$/m);
  assert.match(text, /^zgrid_zos_provision_seconds_bucket\{le="5"\} 1$/m);
  assert.match(text, /^zgrid_zos_provision_seconds_bucket\{le="60"\} 2$/m);
  assert.match(text, /^zgrid_zos_provision_seconds_sum 43$/m);
  assert.match(text, /^zgrid_zos_capacity_total\{resource="mru"\} 8589934592$/m);
  assert.match(text, /^zgrid_zos_capacity_used\{resource="sru"\} 1073741824$/m);
  const server = await startMetricsServer({ port: 0, text: () => text });
  t.after(() => server.close());
  assert.equal(await (await fetch(server.url)).text(), text);
  assert.equal((await fetch(server.url.replace("/metrics", "/other"))).status, 404);
});
