// Mutating calls that no client function exposes to users (module hooks, admin wiring) revert with
// their reason when sent from a wrong account.
import { describe, test, before, after } from "node:test";
import { startTestGrid, type TestGrid } from "./devchain/test-grid.ts";
import { assertRevert } from "./devchain/assert-revert.ts";
import { write } from "./client/context.ts";
import assert from "node:assert/strict";
import { gridContractsAbi, gridTokenAbi, governanceAbi, registryAbi } from "./abis.ts";
import { AuthorizationError } from "./errors/chain-error.ts";
import { BillingError } from "./errors/billing-errors.ts";

describe("module hooks and admin wiring refuse other accounts", () => {
  let g: TestGrid;
  before(async () => { g = await startTestGrid(); });
  after(async () => { await g?.stop(); });

  test("registry, token and contracts hooks", async () => {
    const ctx = g.stranger.context;
    const a = g.chain.addresses;
    const me = g.stranger.account!;
    await assertRevert(write(ctx, a.registry, registryAbi, "setContractsModule", [me]), "NotAdmin", AuthorizationError);
    await assertRevert(write(ctx, a.registry, registryAbi, "reserveIps", [g.farmId, 1, 1n]), "NotContractsModule", AuthorizationError);
    await assertRevert(write(ctx, a.registry, registryAbi, "releaseIps", [g.farmId, 1n]), "NotContractsModule", AuthorizationError);
    await assertRevert(write(ctx, a.contracts, gridContractsAbi, "accrueRent", [g.nodeId1]), "NotContractsModule", AuthorizationError);
    await assertRevert(write(ctx, a.token, gridTokenAbi, "setOperator", [me]), "NotAdmin", AuthorizationError);
    await assertRevert(write(ctx, a.token, gridTokenAbi, "burnFrom", [g.user.account!, 1n]), "NotContractsModule", AuthorizationError);
    await assertRevert(write(ctx, a.token, gridTokenAbi, "transferFrom", [g.user.account!, me, 1n]), "InsufficientAllowance", BillingError);
    await assertRevert(write(ctx, a.token, gridTokenAbi, "operatorPay", [g.user.account!, me, 1n, me, 1n, 1n]), "NotContractsModule", AuthorizationError);
    await assertRevert(write(g.user.context, a.token, gridTokenAbi, "transfer", [me, 10n ** 30n]), "InsufficientBalance", BillingError);
  });

  test("every mutating function is classified: who may call it, and where the wrong-account test is", () => {
    // A new mutating function fails this test until it is added here with its wrong-account test.
    const where: Record<string, string> = {
      // registry
      setContractsModule: "auth + governance", setAdmin: "governance (deployer refused)", createTwin: "twins-farms (TwinExists)", updateTwin: "twins-farms (NoTwin)",
      createFarm: "twins-farms (NoTwin)", setFarmDedicated: "twins-farms", setFarmPricingPolicy: "twins-farms (governed)",
      addFarmIp: "twins-farms", removeFarmIp: "twins-farms", reserveIps: "auth", releaseIps: "auth",
      registerNode: "nodes (NoTwin)", updateNode: "nodes", reportUptime: "nodes", setPowerTarget: "nodes",
      setPowerState: "nodes", deleteNode: "nodes", setPricingPolicy: "billing + twins-farms (governed)",
      // contracts
      createNodeContract: "contracts (NoTwin)", createNameContract: "contracts (NoTwin)", createRentContract: "contracts (NoTwin)",
      updateNodeContract: "contracts", cancelContract: "contracts", adminCancelContract: "billing (governed)",
      reportContractResources: "contracts", reportContractResourcesBatch: "contracts", reportNetworkUsage: "contracts",
      accrueRent: "auth", settle: "anyone (billing)", setBillingConfig: "billing (governed)",
      // governance
      setCouncilMember: "governance (NotGovernance)", propose: "governance", vote: "governance", close: "anyone (governance)",
      setSafeToUpgrade: "governance", proposeCall: "governance (NotCouncil)", proposeRelease: "release-governance (NotCouncil)", reportVersion: "release-governance (NodeNotFound)", setUnsafeAfterFailures: "release-governance (NotGovernance)", execute: "anyone (governance: timelock)",
      // token
      setOperator: "auth + governance", setMinter: "governance", mint: "billing (NotMinter)", burnFrom: "auth", operatorPay: "auth", transferFrom: "auth (allowance)",
      transfer: "own balance (auth)", approve: "own allowance",
    };
    const mutating = [...registryAbi, ...gridContractsAbi, ...governanceAbi, ...gridTokenAbi]
      .filter((x) => x.type === "function" && (x as { stateMutability: string }).stateMutability !== "view" && (x as { stateMutability: string }).stateMutability !== "pure")
      .map((x) => (x as { name: string }).name);
    assert.deepEqual([...new Set(mutating)].sort(), Object.keys(where).sort());
  });
});
