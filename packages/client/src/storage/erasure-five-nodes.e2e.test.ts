// A 3+2 erasure-coded object over the zdb namespaces of five real nodes: five zosd node daemons,
// each in its own node host on the underlay, registered on the dev chain; one zdb workload per
// node, deployed through the SDK's DeployTransaction (contract, signature, bus), and the object
// written through each node's own zdb listener (the address its result names). Then nodes are
// lost as a node is lost: every pair of nodes frozen (SIGSTOP of the whole zosd: connections
// accepted, never answered), then two nodes' daemons SIGKILLed (their zdb service dies with them).
// The object reads back intact each time; the killed nodes started again serve their shards from
// disk. No VM is booted: zdb is served by the node daemon itself.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { ZdbResult } from "@zgrid/types";
import { startGridFixture, type GridFixture, type GridNode } from "@zgrid/zos/testing";
import { DeployTransaction } from "../deploy/deployer.ts";
import { storageKeyOf } from "./block-seal.ts";
import { ErasureStore, type ErasureManifest } from "./erasure-store.ts";

const MiB = 1024 ** 2;
const PASSWORD = "ec-five-nodes";

describe("3+2 erasure-coded object over five nodes' zdb namespaces", { timeout: 600_000 }, () => {
  let g: GridFixture | undefined;
  const targets: Array<{ host: string; port: number; namespace: string; password: string }> = [];

  before(async () => {
    g = await startGridFixture({ nodes: 5, entrypoint: "#!/bin/sh\nexec sleep 100000\n", subnetOctet: 243 });
  });
  after(async () => {
    for (const n of g?.nodes ?? []) if (n.process?.pid) try { process.kill(n.process.pid, "SIGCONT"); } catch { /* gone */ }
    await g?.stop();
  });

  const freeze = (n: GridNode, sig: "SIGSTOP" | "SIGCONT") => process.kill(n.process!.pid!, sig);

  it("is read back intact with any 2 of the 5 nodes frozen or killed; the killed nodes restarted serve it again", async () => {
    const grid = g!;
    const user = grid.user;
    // one zdb namespace on each node, through the SDK (contract on chain, signed deployment over the bus)
    for (const n of grid.nodes) {
      const tx = new DeployTransaction({ chain: user.client, key: user.key, twinId: user.id, bus: () => Promise.resolve(user.bus) });
      const d = await tx.deploy({
        nodeId: n.nodeId, nodeTwinId: n.twinId, metadata: JSON.stringify({ test: "erasure-five-nodes" }),
        workloads: [{ version: 0, name: "ec", type: "zdb", metadata: "", description: "", data: { size: 16 * MiB, mode: "user", password: PASSWORD, public: false } }],
      });
      const r = d.workloads[0]!.result?.data as ZdbResult;
      const own = r.endpoints.find((e) => !e.network && e.address === n.host.address);
      assert.ok(own, `node ${n.nodeId} names its own address ${n.host.address} for the namespace: ${JSON.stringify(r.endpoints)}`);
      targets.push({ host: own.address, port: own.port, namespace: r.namespace, password: PASSWORD });
    }
    assert.equal(new Set(targets.map((t) => t.host)).size, 5, "five different nodes");

    const storageKey = storageKeyOf(user.key.privateKey);
    const object = randomBytes(2 * MiB + 4321);
    const writer = new ErasureStore({ targets, k: 3, m: 2, storageKey, blockSize: 256 * 1024, timeoutMs: 5_000 });
    const manifest: ErasureManifest = await writer.put(object);
    writer.close();
    assert.equal(manifest.size, object.length);
    const read = async () => {
      const reader = new ErasureStore({ targets, k: 3, m: 2, storageKey, timeoutMs: 1_500 });
      try {
        return await reader.read(manifest);
      } finally {
        reader.close();
      }
    };
    assert.ok((await read()).equals(object), "intact with all five nodes up");

    // every pair of the five nodes frozen in turn
    const nodes = grid.nodes;
    for (let a = 0; a < 5; a++) for (let b = a + 1; b < 5; b++) {
      freeze(nodes[a]!, "SIGSTOP");
      freeze(nodes[b]!, "SIGSTOP");
      try {
        assert.ok((await read()).equals(object), `intact with nodes ${nodes[a]!.nodeId} and ${nodes[b]!.nodeId} frozen`);
      } finally {
        freeze(nodes[a]!, "SIGCONT");
        freeze(nodes[b]!, "SIGCONT");
      }
    }

    // two nodes' daemons killed for real: their zdb listeners are gone
    const killed = [nodes[1]!, nodes[3]!];
    for (const n of killed) {
      const exited = new Promise<void>((resolve) => n.process!.once("exit", () => resolve()));
      n.kill();
      await exited;
    }
    assert.ok((await read()).equals(object), "intact with two nodes killed");

    // started again on their data dirs (same zdb port, kept across restarts): they serve their shards,
    // so the object reads with two OTHER nodes frozen
    for (const n of killed) await n.start();
    freeze(nodes[0]!, "SIGSTOP");
    freeze(nodes[2]!, "SIGSTOP");
    try {
      assert.ok((await read()).equals(object), "intact from the restarted nodes with two others frozen");
    } finally {
      freeze(nodes[0]!, "SIGCONT");
      freeze(nodes[2]!, "SIGCONT");
    }
  });
});
