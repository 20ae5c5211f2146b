// Networks across nodes, end to end with real components: two node hosts on the underlay (network
// namespaces), a zosd process in each, one private WireGuard network spanning both, a busybox VM on
// each; the guest on node A fetches HTTP from the guest on node B over the private network. Then:
// refusals, deletes leave no interfaces or wireguard-go processes.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { deploymentHashHex, parseDeployment, signDeployment, type Deployment } from "@zgrid/types";
import { networkNames } from "../primitives/node-paths.ts";
import { planNetwork, type NetworkPlan } from "../primitives/network/plan.ts";
import type { Twin } from "../testing/node-fixture.ts";
import { startGridFixture, type GridFixture, type GridNode } from "./grid-fixture.ts";

const MiB = 1024 ** 2;
const ENTRYPOINT = `#!/bin/sh
mkdir -p /www && echo "hello-from-$(hostname)" > /www/index.html
httpd -p 80 -h /www
echo "ZGRID-READY $(hostname)"
while true; do
  if [ -n "$PEER" ]; then
    r=$(printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 "$PEER" 80 | tail -n 1)
    echo "ZGRID-HTTP peer=$PEER body=$r"
  else
    echo "ZGRID-TICK $(hostname)"
  fi
  sleep 2
done
`;

let g: GridFixture;
let plan: NetworkPlan;

type Json = Record<string, unknown>;
function deploymentJson(twin: number, workloads: Json[], metadata: string) {
  return {
    version: 0, twin_id: twin, contract_id: 0, metadata, description: "",
    signature_requirement: { requests: [{ twin_id: twin, required: true, weight: 1 }], weight_required: 1 },
    workloads: workloads.map((w) => ({ version: 0, ...w })),
  };
}

function vm(name: string, ip: string, env: Record<string, string>, extra: Json = {}): Json {
  return { name, type: "zmachine", data: {
    flist: g.flistUrl, network: { interfaces: [{ network: "net", ip }], ...extra }, size: 0,
    compute_capacity: { cpu: 1, memory: 256 * MiB }, mounts: [], entrypoint: "/start.sh", env,
  } };
}

async function deploy(owner: Twin, node: GridNode, json: ReturnType<typeof deploymentJson>, publicIps = 0): Promise<Deployment> {
  const d = parseDeployment(json, { externalNetworks: ["net"] });
  const contractId = await owner.client.createNodeContract({ nodeId: node.nodeId, deploymentHash: deploymentHashHex(d), publicIps });
  const signed = signDeployment({ ...d, contract_id: contractId }, owner.id, owner.key);
  await owner.bus.request(node.twinId, "zos.deployment.deploy", signed, { timeout: 20_000 });
  return signed;
}

const get = (node: GridNode, contractId: number) => g.user.bus.request<Deployment>(node.twinId, "zos.deployment.get", { contract_id: contractId }, { timeout: 20_000 });
const settled = (d: Deployment) => d.workloads.every((w) => w.result && w.result.state !== "init");

async function waitFor<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 90_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < end) {
    last = await fn().catch((e: unknown) => e as T);
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 400));
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)?.slice(0, 2000)}`);
}

async function settledOk(node: GridNode, contractId: number): Promise<Deployment> {
  const d = await waitFor("workloads to settle", () => get(node, contractId), (x) => !!x && settled(x));
  for (const w of d.workloads) assert.equal(w.result?.state, "ok", `${w.name}: ${w.result?.message}`);
  return d;
}

const consoleOf = (d: Deployment, name: string) => (d.workloads.find((w) => w.name === name)?.result?.data as { console: string }).console;
const readConsole = async (path: string) => (existsSync(path) ? readFileSync(path, "utf8") : "");

describe("networks across nodes", { timeout: 300_000 }, () => {
  before(async () => {
    g = await startGridFixture({ nodes: 2, entrypoint: ENTRYPOINT, domain: "gw1.test" });
    g.trackNetwork(g.user.id, "net");
  });
  after(async () => {
    await g?.stop();
  });

  const contracts: Array<[GridNode, number]> = [];

  test("a VM on node A reaches HTTP in a VM on node B over the private network", async () => {
    const [a, b] = g.nodes as [GridNode, GridNode];
    plan = planNetwork({ ipRange: "10.31.0.0/16", nodes: g.nodes.map((n) => ({ nodeId: n.nodeId, endpoint: n.host.address, listenPort: 51830 })) });
    const [pa, pb] = plan.nodes;
    const ipA = pa!.subnet.replace(/0\/24$/, "5");
    const ipB = pb!.subnet.replace(/0\/24$/, "5");
    const da = await deploy(g.user, a, deploymentJson(g.user.id, [
      { name: "net", type: "network", data: pa!.workload },
      vm("vma", ipA, { PEER: ipB }),
    ], "net-a"));
    const db = await deploy(g.user, b, deploymentJson(g.user.id, [
      { name: "net", type: "network", data: pb!.workload },
      vm("vmb", ipB, {}),
    ], "net-b"));
    contracts.push([a, da.contract_id], [b, db.contract_id]);
    const sa = await settledOk(a, da.contract_id);
    await settledOk(b, db.contract_id);
    const text = await waitFor("guest A's HTTP answer from guest B", () => readConsole(consoleOf(sa, "vma")), (t) => t.includes("body=hello-from-vmb"));
    assert.match(text, new RegExp(`ZGRID-HTTP peer=${ipB.replace(/\./g, "\\.")} body=hello-from-vmb`));
  });

  test("deleting the networks leaves no namespace, interface or wireguard-go process", async () => {
    for (const [node, id] of contracts.splice(0)) {
      await g.user.client.cancelContract(id);
      const names = networkNames(node.nodeId, g.user.id, "net", node.account);
      await waitFor("the network to be gone", async () => existsSync(`/run/netns/${names.namespace}`), (x) => !x);
      const links = spawnSync("ip", ["netns", "exec", node.host.namespace, "ip", "-o", "link"], { encoding: "utf8" }).stdout;
      assert.doesNotMatch(links, new RegExp(`${names.bridge}|${names.vethHost}|w-${names.id}|zt`));
      assert.equal(spawnSync("pgrep", ["-f", `wireguard-go w-${names.id}`]).status, 1, "wireguard-go ended");
    }
  });
});
