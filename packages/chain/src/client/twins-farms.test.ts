import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestGrid, type TestGrid } from "../devchain/test-grid.ts";
import { assertRevert } from "../devchain/assert-revert.ts";
import { devAccount } from "../devchain/dev-accounts.ts";
import { AuthorizationError, ChainError } from "../errors/chain-error.ts";
import { createGridClient } from "./create-grid-client.ts";
import { createPublicClient, custom, type PublicClient } from "viem";
import { TwinError } from "../errors/twin-errors.ts";
import { FarmError } from "../errors/farm-errors.ts";
import { ContractError } from "../errors/contract-errors.ts";
import { testHash } from "../devchain/test-grid.ts";
import { governedCalls } from "./governed-calls.ts";
import { write } from "./context.ts";
import { registryAbi } from "../abis.ts";

describe("twins and farms", () => {
  let g: TestGrid;
  before(async () => { g = await startTestGrid(); });
  after(async () => { await g?.stop(); });

  test("dev chain twins exist with peer ids; one twin per account", async () => {
    const t = g.chain.twins[0]!;
    assert.deepEqual(await g.user.getTwin(t.twinId), { id: t.twinId, account: t.address, peerId: t.peerId, relays: [] });
    assert.equal(await g.user.twinIdByAccount(t.address), t.twinId);
    assert.match(t.peerId, /^16Uiu2HA/);
    await assertRevert(g.farmer.createTwin({ peerId: "x" }), "TwinExists", TwinError, "already has twin");
    await assertRevert(g.user.getTwin(999), "TwinNotFound", TwinError);
  });

  test("create and update a twin; an account without a twin cannot update", async () => {
    const fresh = g.clientFor(devAccount(9).privateKey);
    await assertRevert(fresh.updateTwin({ peerId: "p" }), "NoTwin", TwinError, "has no twin");
    const id = await fresh.createTwin({ peerId: "peer-a", relays: ["/ip4/127.0.0.1/tcp/1/ws"] });
    await fresh.updateTwin({ peerId: "peer-b", relays: ["r1", "r2"] });
    const twin = await fresh.getTwin(id);
    assert.equal(twin.peerId, "peer-b");
    assert.deepEqual(twin.relays, ["r1", "r2"]);
    assert.equal(twin.account, devAccount(9).address);
  });

  test("farm name rules: 3-40 of [A-Za-z0-9-_], unique", async () => {
    for (const bad of ["ab", "a".repeat(41), "my farm", "farm!", "fárm"]) {
      await assertRevert(g.user.createFarm({ name: bad }), "InvalidFarmName", FarmError);
    }
    const id = await g.user.createFarm({ name: "Farm_A-" + "x".repeat(33) });
    assert.equal((await g.user.getFarm(id)).twinId, g.chain.twins[3]!.twinId);
    await assertRevert(g.stranger.createFarm({ name: "farm-one" }), "FarmNameTaken", FarmError, "'farm-one' is taken by farm 1");
    assert.equal(await g.user.farmIdByName("farm-one"), 1);
    const noTwin = g.clientFor(devAccount(10).privateKey);
    await assertRevert(noTwin.createFarm({ name: "nofarm" }), "NoTwin", TwinError);
  });

  test("farmer manages the dedicated flag and the IP pool; others are refused", async () => {
    const farm = await g.farmer.getFarm(g.farmId);
    assert.equal(farm.name, "farm-one");
    assert.equal(farm.publicIps.length, 3);
    assert.equal(farm.nodeCount, 2);
    assert.ok(farm.weightMilli > 0n);
    await assertRevert(g.stranger.setFarmDedicated(g.farmId, true), "NotFarmer", AuthorizationError, "is not the farmer of farm 1");
    await assertRevert(g.stranger.addFarmIp(g.farmId, { ip: "1.1.1.1/24", gateway: "1.1.1.254" }), "NotFarmer", AuthorizationError);
    await assertRevert(g.stranger.removeFarmIp(g.farmId, "185.69.0.10/24"), "NotFarmer", AuthorizationError);
    await assertRevert(g.farmer.addFarmIp(g.farmId, { ip: "185.69.0.10/24", gateway: "x" }), "IpExists", FarmError);
    await assertRevert(g.farmer.removeFarmIp(g.farmId, "9.9.9.9/24"), "IpNotFound", FarmError);
    await assertRevert(g.farmer.addFarmIp(99, { ip: "9.9.9.9/24", gateway: "x" }), "FarmNotFound", FarmError);

    await g.farmer.addFarmIp(g.farmId, { ip: "185.69.0.99/24", gateway: "185.69.0.1" });
    await g.farmer.removeFarmIp(g.farmId, "185.69.0.99/24");
    assert.ok(!(await g.farmer.getFarm(g.farmId)).publicIps.some((p) => p.ip === "185.69.0.99/24"));

    // an IP held by a contract cannot be removed until the contract is gone
    const cid = await g.user.createNodeContract({ nodeId: g.nodeId1, deploymentHash: testHash(1), publicIps: 1 });
    const held = (await g.farmer.getFarm(g.farmId)).publicIps.find((p) => p.contractId === cid)!;
    await assertRevert(g.farmer.removeFarmIp(g.farmId, held.ip), "IpInUse", FarmError, `used by contract ${cid}`);
    await g.user.cancelContract(cid);
    await g.farmer.removeFarmIp(g.farmId, held.ip);

    await g.farmer.setFarmDedicated(g.farmId, true);
    assert.equal((await g.farmer.getFarm(g.farmId)).dedicated, true);
    await assertRevert(g.user.createNodeContract({ nodeId: g.nodeId1, deploymentHash: testHash(2) }), "NodeDedicatedNeedsRent", ContractError);
    await g.farmer.setFarmDedicated(g.farmId, false);
  });

  test("a client over the in-process EIP-1193 provider (no URL) reads and writes", async () => {
    const publicClient = createPublicClient({ transport: custom(g.chain.provider) }) as PublicClient;
    const c = createGridClient({ publicClient, addresses: g.chain.addresses, account: devAccount(16).privateKey });
    const id = await c.createTwin({ peerId: "in-process" });
    assert.equal((await c.getTwin(id)).peerId, "in-process");
  });

  test("pricing policies change only through governance; the old admin is refused", async () => {
    const calls = governedCalls(g.chain.addresses);
    const a = g.chain.addresses;
    const cheap = { id: 0, name: "cheap", su: 1n, cu: 2n, nu: 3n, ipu: 4n, uniqueName: 5n };
    await assertRevert(write(g.admin.context, a.registry, registryAbi, "setPricingPolicy", [cheap]), "NotAdmin", AuthorizationError);
    await assertRevert(write(g.farmer.context, a.registry, registryAbi, "setFarmPricingPolicy", [g.farmId, 1]), "NotAdmin", AuthorizationError);
    await g.govern(calls.setPricingPolicy(cheap));
    const id = await g.admin.pricingPolicyCount();
    assert.equal(id, 2);
    await assertRevert(g.govern(calls.setFarmPricingPolicy(g.farmId, 77)), "PricingPolicyNotFound");
    await g.govern(calls.setFarmPricingPolicy(g.farmId, id));
    assert.equal((await g.admin.getFarm(g.farmId)).pricingPolicyId, 2);
    assert.equal((await g.admin.getPricingPolicy(2)).name, "cheap");
    await g.govern(calls.setFarmPricingPolicy(g.farmId, 1));
  });
});

test("an unreachable chain is a ChainError that says so", async () => {
  const c = createGridClient({ rpcUrl: "http://127.0.0.1:1", addresses: { token: "0x0000000000000000000000000000000000000001", registry: "0x0000000000000000000000000000000000000002", contracts: "0x0000000000000000000000000000000000000003", governance: "0x0000000000000000000000000000000000000004" } });
  await assert.rejects(c.getTwin(1), (e: unknown) => e instanceof ChainError && e.message.includes("cannot reach the chain at http://127.0.0.1:1") && !!e.hint);
});
