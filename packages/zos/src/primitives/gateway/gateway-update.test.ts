// A gateway's backends change in place (a 3bot re-points its name gateway after a heal or during a
// rolling update): the update swaps the route under the same workload id and never removes it
// first, so the gateway serves throughout. The real engine, store, update rules and gateway
// managers; the proxy records what it is told (the real HAProxy reload: bot.e2e.test.ts).
import assert from "node:assert/strict";
import { test } from "node:test";
import { createLogger } from "@zgrid/log";
import { GiB, deploymentHashHex, parseDeployment, signDeployment, twinKeyFromPrivateKey, type Capacity, type Deployment } from "@zgrid/types";
import { EgressPolicy } from "../../egress/egress-policy.ts";
import { openDeploymentStore } from "../../engine/deployment-store.ts";
import { ChainDouble } from "../../engine/chain-double.ts";
import { ProvisionEngine } from "../../engine/provision-engine.ts";
import { gatewayManagers } from "./gateway-managers.ts";
import { RecordingProxy } from "./gateway-proxy-double.ts";
import type { HaproxyGateway } from "./haproxy-gateway.ts";

const log = createLogger("test.gateway-update");
const key = twinKeyFromPrivateKey(`0x${"34".repeat(32)}`);
const TWIN = 9;
const NODE = 4;
const BIG: Capacity = { cru: 64, mru: 512 * GiB, sru: 4096 * GiB, hru: 4096 * GiB, ipv4u: 100 };


function signed(chain: ChainDouble, id: number, version: number, backends: string[]): Deployment {
  const d = parseDeployment({
    version, twin_id: TWIN, contract_id: id, metadata: "", description: "", expiration: 0,
    signature_requirement: { requests: [{ twin_id: TWIN, required: false, weight: 1 }], weight_required: 1, signatures: [], signature_style: "" },
    workloads: [{ version, name: "gw", type: "gateway-name-proxy", metadata: "", description: "", data: { name: "shop", tls_passthrough: false, backends } }],
  });
  const s = signDeployment(d, TWIN, key);
  chain.contracts.set(id, { id, twinId: TWIN, kind: "node", state: "created", nodeId: NODE, deploymentHash: deploymentHashHex(s), publicIps: [], name: "" });
  return s;
}

test("a name gateway's backends are updated in place: the route is swapped, never removed, and the gateway stays ok", async (t) => {
  const store = openDeploymentStore(":memory:");
  t.after(() => store.close());
  const chain = new ChainDouble(TWIN, key.address);
  const proxy = new RecordingProxy();
  const gateways = gatewayManagers({
    domain: "gw.test", names: { contractIdByName: () => Promise.resolve(77), getContract: () => Promise.resolve({ twinId: TWIN, state: "created" }) },
    proxy: proxy as unknown as HaproxyGateway, policy: new EgressPolicy({ ownAddresses: () => [] }),
    findNetwork: () => undefined,
  });
  const engine = new ProvisionEngine({ nodeId: NODE, chain, store, managers: { "gateway-name-proxy": gateways.name }, totalCapacity: BIG, log });
  const gw = () => store.get(30)!.workloads.find((w) => w.name === "gw")!;

  await engine.deploy(TWIN, signed(chain, 30, 0, ["http://10.40.2.5:80", "http://10.40.3.5:80"]));
  await engine.queue.idle();
  assert.equal(gw().result?.state, "ok", gw().result?.message);

  // node of 10.40.3.5 died; the replacement is 10.40.4.5
  await engine.update(TWIN, signed(chain, 30, 1, ["http://10.40.2.5:80", "http://10.40.4.5:80"]));
  await engine.queue.idle();
  assert.equal(gw().result?.state, "ok", gw().result?.message);
  assert.deepEqual(gw().data, { name: "shop", tls_passthrough: false, backends: ["http://10.40.2.5:80", "http://10.40.4.5:80"] });
  assert.deepEqual(proxy.ops, [`set ${TWIN}-30-gw http://10.40.2.5:80,http://10.40.3.5:80`, `set ${TWIN}-30-gw http://10.40.2.5:80,http://10.40.4.5:80`], "swapped in place, never removed");
  assert.deepEqual((gw().result?.data as { fqdn?: string }).fqdn, "shop.gw.test");
});
