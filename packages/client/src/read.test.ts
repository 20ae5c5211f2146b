// @zgrid/client/read against the full SDK, on a real dev chain and a real libp2p bus. The node is
// a bus peer of the node's twin that answers `zos.deployment.get` with a stored deployment (a
// stand-in for zosd's route, labelled: this tests the client's read path, not the node).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createBus, type Bus } from "@zgrid/bus";
import { chainTwinDirectory } from "@zgrid/chain/client";
import { startTestGrid, type TestGrid } from "@zgrid/chain/testing";
import { NODE_ROUTES, parseDeployment, twinKeyFromPrivateKey } from "@zgrid/types";
import { sampleDeploymentJson } from "@zgrid/types/testing";
import { connectGrid, type Grid } from "./grid.ts";
import { encodeMetadata } from "./models/contract-metadata.ts";
import { openGridReader } from "./read.ts";

describe("openGridReader: the light read path", () => {
  let g: TestGrid;
  let node: Bus;
  let full: Grid;
  let contractId = 0;
  before(async () => {
    g = await startTestGrid({ publicIps: 1 });
    const nodeTwin = g.chain.twins[1]!;
    node = await createBus({ key: twinKeyFromPrivateKey(nodeTwin.privateKey), twinId: nodeTwin.twinId, directory: chainTwinDirectory(g.node1), listen: ["/ip4/127.0.0.1/tcp/0"] });
    await g.node1.updateTwin({ peerId: node.peerId, relays: node.addresses().map((a) => a.replace(/\/p2p\/.*$/, "")) });
    const user = g.chain.twins[3]!;
    contractId = await g.user.createNodeContract({ nodeId: g.nodeId1, deploymentHash: `0x${"cd".repeat(32)}`, metadata: encodeMetadata({ kind: "vm", name: "vm", network: "net", project: "shop" }), publicIps: 1 });
    const d = { ...parseDeployment(sampleDeploymentJson({ twinId: user.twinId })), contract_id: contractId };
    for (const w of d.workloads) {
      w.result = { created: 1, state: "ok", message: "", data: w.type === "zmachine" ? { ip: "10.20.2.5", console: "/var/log/vm.log" } : w.type === "ip" ? { ip: "185.69.0.10/24" } : undefined };
    }
    node.handle(NODE_ROUTES.get.name, (payload: { contract_id: number }, ctx: { twinId: number }) => {
      if (payload.contract_id !== contractId || ctx.twinId !== user.twinId) throw new Error("not yours");
      return d;
    });
    full = await connectGrid({ rpcUrl: g.chain.rpcUrl, addresses: g.chain.addresses, privateKey: user.privateKey });
  });
  after(async () => {
    await full?.close();
    await node?.stop();
    await g?.stop();
  });

  test("lists the same VMs as the full SDK (chain by fetch + ox, node by the bus)", async () => {
    const reader = await openGridReader({ rpcUrl: g.chain.rpcUrl, addresses: g.chain.addresses, privateKey: g.chain.twins[3]!.privateKey });
    try {
      const listed = await reader.vms.list();
      assert.deepEqual(listed, await full.vms.list());
      assert.equal(listed.length, 1);
      assert.deepEqual({ name: listed[0]!.name, state: listed[0]!.state, ip: listed[0]!.ip, publicIp: listed[0]!.publicIp, project: listed[0]!.project, contractId: listed[0]!.contractId },
        { name: "vm", state: "ok", ip: "10.20.2.5", publicIp: "185.69.0.10/24", project: "shop", contractId });
      assert.deepEqual(await reader.contracts.list(), await full.contracts.list());
      await assert.rejects(reader.contracts.cancel(contractId), /only reads the chain/);
    } finally {
      await reader.close();
    }
  });

  test("a key without a twin is refused with a hint; a twin without VMs lists none", async () => {
    await assert.rejects(openGridReader({ rpcUrl: g.chain.rpcUrl, addresses: g.chain.addresses, privateKey: `0x${"42".repeat(32)}` }), /has no twin on this grid/);
    const reader = await openGridReader({ rpcUrl: g.chain.rpcUrl, addresses: g.chain.addresses, privateKey: g.chain.twins[4]!.privateKey });
    assert.deepEqual(await reader.vms.list(), []);
    await reader.close();
  });

  test("the read path loads neither viem nor, until a node is asked, libp2p or zod", () => {
    const hook = spawnSync(process.execPath, ["--input-type=module", "-e", [
      "import { registerHooks } from 'node:module';",
      "const seen = new Set();",
      "registerHooks({ resolve(s, c, next) { const r = next(s, c); const m = /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(r.url); if (m) seen.add(m[1]); return r; } });",
      `await import(${JSON.stringify(import.meta.resolve("@zgrid/client/read"))});`,
      "console.log(JSON.stringify([...seen]));",
    ].join("\n")], { encoding: "utf8" });
    assert.equal(hook.status, 0, hook.stderr);
    const packages = JSON.parse(hook.stdout) as string[];
    for (const heavy of ["viem", "libp2p", "@libp2p/tcp", "@chainsafe/libp2p-noise", "zod"]) assert.ok(!packages.includes(heavy), `${heavy} not loaded: ${packages.join(", ")}`);
  });
});
