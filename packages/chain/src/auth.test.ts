// Mutating calls that no client function exposes to users (module hooks, admin wiring) revert with
// their reason when sent from a wrong account.
import { describe, test, before, after } from "node:test";
import { startTestGrid, type TestGrid } from "./devchain/test-grid.ts";
import { assertRevert } from "./devchain/assert-revert.ts";
import { write } from "./client/context.ts";
import { gridContractsAbi, gridTokenAbi, registryAbi } from "./abis.ts";
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
    await assertRevert(write(g.user.context, a.token, gridTokenAbi, "transfer", [me, 10n ** 30n]), "InsufficientBalance", BillingError);
  });
});
