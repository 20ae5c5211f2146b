// A gateway routing into a network of ANOTHER deployment of its twin: when that deployment is
// cancelled the gateway goes to error with a reason naming the network (it was `ok` answering 503
// before), and it comes back by itself once the twin deploys the network again (level-based).
// The real engine, store and gateway managers; the network manager and the proxy record what they
// are told (the real ones need namespaces and HAProxy: underlay/networks.e2e.test.ts).
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { createLogger } from "@zgrid/log";
import { GiB, deploymentHashHex, parseDeployment, signDeployment, twinKeyFromPrivateKey, type Capacity, type Deployment } from "@zgrid/types";
import { EgressPolicy } from "../../egress/egress-policy.ts";
import { findNetworkOf } from "../../daemon/create-managers.ts";
import { openDeploymentStore } from "../../engine/deployment-store.ts";
import { ChainDouble } from "../../engine/chain-double.ts";
import { ProvisionEngine } from "../../engine/provision-engine.ts";
import type { ManagerMap } from "../../engine/workload-manager.ts";
import { NETWORK_GONE, gatewayManagers } from "./gateway-managers.ts";
import { RecordingProxy } from "./gateway-proxy-double.ts";
import type { HaproxyGateway } from "./haproxy-gateway.ts";

const log = createLogger("test.gateway-network");
const key = twinKeyFromPrivateKey(`0x${"12".repeat(32)}`);
const TWIN = 9;
const NODE = 4;
const BIG: Capacity = { cru: 64, mru: 512 * GiB, sru: 4096 * GiB, hru: 4096 * GiB, ipv4u: 100 };
const WG_KEY = "GLnSsjaSq4v+ZiYVfwOm2vzhUi0V4ZVNLbHjHbOWx1s=";


function contracted(chain: ChainDouble, id: number, workloads: unknown[]): Deployment {
  const d = parseDeployment({
    version: 0, twin_id: TWIN, contract_id: id, metadata: "", description: "", expiration: 0,
    signature_requirement: { requests: [{ twin_id: TWIN, required: false, weight: 1 }], weight_required: 1, signatures: [], signature_style: "" },
    workloads,
  }, { externalNetworks: ["net"] });
  const signed = signDeployment(d, TWIN, key);
  chain.contracts.set(id, { id, twinId: TWIN, kind: "node", state: "created", nodeId: NODE, deploymentHash: deploymentHashHex(signed), publicIps: [], name: "" });
  return signed;
}

const networkWorkload = { version: 0, name: "net", type: "network", metadata: "", description: "", data: { ip_range: "10.40.0.0/16", subnet: "10.40.2.0/24", wireguard_private_key: WG_KEY, wireguard_listen_port: 6000, peers: [] } };
const gateway = { version: 0, name: "gw", type: "gateway-fqdn-proxy", metadata: "", description: "", data: { fqdn: "app.example.org", tls_passthrough: false, backends: ["http://10.40.2.5:8080"], network: "net" } };

/** A store, chain double, recording proxy and engine with `network` as the network manager; the network deployed as contract `netId`, the gateway as `gwId`, and the gateway ok. */
async function deployGatewayOnNetwork(t: TestContext, network: ManagerMap["network"], netId: number, gwId: number) {
  const store = openDeploymentStore(":memory:");
  t.after(() => store.close());
  const chain = new ChainDouble(TWIN, key.address);
  const proxy = new RecordingProxy();
  const gateways = gatewayManagers({
    domain: "gw.test", names: { contractIdByName: () => Promise.resolve(0), getContract: () => Promise.reject(new Error("unused")) },
    proxy: proxy as unknown as HaproxyGateway, policy: new EgressPolicy({ ownAddresses: () => [] }),
    findNetwork: (ctx, name) => findNetworkOf(store, ctx.deployment, name),
  });
  const managers: ManagerMap = { network, "gateway-fqdn-proxy": gateways.fqdn };
  const engine = new ProvisionEngine({ nodeId: NODE, chain, store, managers, totalCapacity: BIG, log });
  const gwState = () => store.get(gwId)!.workloads.find((w) => w.name === "gw")!.result!;
  await engine.deploy(TWIN, contracted(chain, netId, [networkWorkload]));
  await engine.queue.idle();
  await engine.deploy(TWIN, contracted(chain, gwId, [gateway]));
  await engine.queue.idle();
  assert.equal(gwState().state, "ok", gwState().message);
  return { store, chain, proxy, engine, gwState };
}

test("a gateway whose network's deployment is cancelled goes to error naming the network, and recovers when the network is back", async (t) => {
  let netSeq = 0;
  const { store, chain, proxy, engine, gwState } = await deployGatewayOnNetwork(t, {
    provision: async (_ctx, w) => ({ bridge: "b", namespace: `ns-${++netSeq}`, gateway: "10.40.2.1", subnet: w.data.subnet, prefix: 24, ip_range: w.data.ip_range, wireguard: "w", listen_port: w.data.wireguard_listen_port }),
    deprovision: async () => undefined,
    adopt: async () => true,
  }, 20, 21);
  assert.equal(proxy.routes.get(`${TWIN}-21-gw`)?.namespace, "ns-1");

  // The network's deployment is cancelled: the next liveness tick finds the gateway's reference broken.
  chain.contracts.get(20)!.state = "deleted";
  await engine.reconcile(20);
  assert.equal(store.get(20)!.workloads[0]!.result?.state, "deleted");
  await engine.watchLiveness();
  await engine.queue.idle();
  assert.equal(gwState().state, "error");
  assert.ok(gwState().message.startsWith(NETWORK_GONE), gwState().message);
  assert.match(gwState().message, /the network 'net' of twin 9 this gateway routes to is not on this node .*comes back by itself once the network is deployed again/);
  // Nothing changes while the network stays away (no reprovision loop).
  await engine.watchLiveness();
  await engine.queue.idle();
  assert.equal(gwState().state, "error");

  // The twin deploys the network again (another deployment): the gateway recovers into it.
  await engine.deploy(TWIN, contracted(chain, 22, [networkWorkload]));
  await engine.queue.idle();
  await engine.watchLiveness();
  await engine.queue.idle();
  assert.equal(gwState().state, "ok", gwState().message);
  assert.equal(proxy.routes.get(`${TWIN}-21-gw`)?.namespace, "ns-2");
  assert.ok(store.changes(21).some((c) => c.name === "gw" && c.state === "error" && c.message.startsWith(NETWORK_GONE)), "the failure is in the history");

  // A plain reconcile (the periodic pass) is level-based too: gone again -> error, back -> ok.
  chain.contracts.get(22)!.state = "deleted";
  await engine.reconcileAll();
  await engine.watchLiveness();
  await engine.queue.idle();
  assert.equal(gwState().state, "error");
  const again = contracted(chain, 23, [networkWorkload]);
  await engine.deploy(TWIN, again);
  await engine.queue.idle();
  await engine.reconcile(21);
  assert.equal(gwState().state, "ok", gwState().message);
});

// A network updated in place (the 3bot extends it to a new node: a new peer) is still there while
// its update runs: a liveness tick during the update finds the gateway alive (it went to error
// "backend network gone" before, and the gateway dropped requests), and the route is never removed.
test("a network being updated in place keeps its gateway alive: no error, no route removed", async (t) => {
  let release: () => void = () => undefined;
  const updating = new Promise<void>((r) => (release = r));
  let updateStarted: () => void = () => undefined;
  const started = new Promise<void>((r) => (updateStarted = r));
  const result = (w: { data: { subnet: string; ip_range: string; wireguard_listen_port: number } }) => ({ bridge: "b", namespace: "ns-1", gateway: "10.40.2.1", subnet: w.data.subnet, prefix: 24, ip_range: w.data.ip_range, wireguard: "w", listen_port: w.data.wireguard_listen_port });
  const { store, chain, proxy, engine, gwState } = await deployGatewayOnNetwork(t, {
    provision: async (_ctx, w) => result(w),
    // the real update re-applies peers in place (wg syncconf); this one waits to be released
    update: async (_ctx, w) => {
      updateStarted();
      await updating;
      return result(w);
    },
    deprovision: async () => undefined,
    adopt: async () => true,
    alive: async () => true,
  }, 30, 31);

  // version 1 of the network: a new peer
  const peer = { subnet: "10.40.3.0/24", wireguard_public_key: "Zx2FlwNw0ygCFRmFn1pyvfqgtJV/DYOOAahOkwzqaTk=", allowed_ips: ["10.40.3.0/24", "100.64.40.3/32"], endpoint: "192.0.2.7:6000" };
  const v1 = parseDeployment({ ...store.get(30)!, version: 1, workloads: [{ ...networkWorkload, version: 1, data: { ...networkWorkload.data, peers: [peer] } }], signature_requirement: { ...store.get(30)!.signature_requirement, signatures: [] } }, { externalNetworks: ["net"] });
  const signed = signDeployment(v1, TWIN, key);
  chain.contracts.get(30)!.deploymentHash = deploymentHashHex(signed);
  await engine.update(TWIN, signed);
  await started;
  assert.equal(store.get(30)!.workloads[0]!.result?.state, "init", "the update is running");
  assert.equal(findNetworkOf(store, store.get(31)!, "net")?.namespace, "ns-1", "the network is still found mid-update");
  await engine.watchLiveness();
  await engine.reconcile(31);
  assert.equal(gwState().state, "ok", gwState().message);
  release();
  await engine.queue.idle();
  assert.equal(store.get(30)!.workloads[0]!.result?.state, "ok");
  assert.equal(gwState().state, "ok");
  assert.ok(!proxy.ops.some((o) => o.startsWith("remove")), `no route removed: ${proxy.ops.join("; ")}`);
});
