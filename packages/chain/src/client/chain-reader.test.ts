import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { startTestGrid, testHash, type TestGrid } from "../devchain/test-grid.ts";
import { ChainError } from "../errors/chain-error.ts";
import { createChainReader } from "./chain-reader.ts";
import { chainTwinDirectory } from "./chain-twin-directory.ts";

describe("light chain reader (fetch + ox)", () => {
  let g: TestGrid;
  before(async () => { g = await startTestGrid({ publicIps: 2 }); });
  after(async () => { await g?.stop(); });

  test("reads the same twins, nodes and contracts as the viem client", async () => {
    const reader = createChainReader({ rpcUrl: g.chain.rpcUrl, addresses: g.chain.addresses });
    const user = g.chain.twins[3]!;
    const id = await g.user.createNodeContract({ nodeId: g.nodeId1, deploymentHash: testHash(77), metadata: '{"kind":"vm","name":"web"}', publicIps: 1 });
    const name = await g.user.createNameContract("reader-test");
    assert.equal(await reader.twinIdByAccount(user.address), user.twinId);
    assert.equal(await reader.twinIdByAccount("0x000000000000000000000000000000000000dEaD"), 0, "no twin: 0");
    assert.deepEqual(await reader.listTwinContracts(user.twinId), await g.user.listTwinContracts(user.twinId));
    assert.deepEqual((await reader.listTwinContracts(user.twinId)).sort(), [id, name].sort());
    for (const c of [id, name]) assert.deepEqual(await reader.getContract(c), await g.user.getContract(c));
    assert.equal((await reader.getContract(id)).publicIps.length, 1);
    for (const n of [g.nodeId1, g.nodeId2]) assert.deepEqual(await reader.getNode(n), await g.user.getNode(n));
    for (const t of g.chain.twins) assert.deepEqual(await reader.getTwin(t.twinId), await g.user.getTwin(t.twinId));
    assert.deepEqual(await chainTwinDirectory(reader).getTwin(user.twinId), await chainTwinDirectory(g.user).getTwin(user.twinId));
    await g.user.cancelContract(name);
    assert.deepEqual(await reader.getContract(name), await g.user.getContract(name), "a cancelled contract too");
  });

  test("a chain that does not answer is a ChainError naming the call and the URL", async () => {
    const reader = createChainReader({ rpcUrl: "http://127.0.0.1:9/", addresses: g.chain.addresses, timeoutMs: 2_000 });
    await assert.rejects(reader.getNode(1), (e: unknown) => e instanceof ChainError && /getNode: the chain at http:\/\/127\.0\.0\.1:9\/ did not answer/.test(e.message));
  });

  test("the reader loads neither viem nor libp2p", () => {
    // the ESM loader has no list of loaded files: ask a resolve hook which packages were resolved
    const hook = spawnSync(process.execPath, ["--input-type=module", "-e", [
      "import { registerHooks } from 'node:module';",
      "const seen = new Set();",
      "registerHooks({ resolve(s, c, next) { const r = next(s, c); const m = /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(r.url); if (m) seen.add(m[1]); return r; } });",
      `await import(${JSON.stringify(import.meta.resolve("@zgrid/chain/reader"))});`,
      "console.log(JSON.stringify([...seen]));",
    ].join("\n")], { encoding: "utf8" });
    assert.equal(hook.status, 0, hook.stderr);
    const packages = JSON.parse(hook.stdout) as string[];
    assert.ok(packages.includes("ox"), `ox is what it uses: ${packages.join(", ")}`);
    for (const heavy of ["viem", "libp2p", "zod"]) assert.ok(!packages.includes(heavy), `${heavy} not loaded: ${packages.join(", ")}`);
  });
});
