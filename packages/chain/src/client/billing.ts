/** Billing calls: settle, token balances and transfers, pricing policies, billing settings (changed by governance). */
import { parseEventLogs, type Address } from "viem";
import { gridContractsAbi, gridTokenAbi, registryAbi } from "../abis.ts";
import type { PricingPolicy, Resources } from "../pricing.ts";
import { accountOf, read, sendNative, write, type GridContext } from "./context.ts";

/** Payout shares (farmer %, burn %, treasury gets the rest), grace period (s), token price (units USD per token). */
export interface BillingConfig { treasury: Address; farmerPct: number; burnPct: number; gracePeriod: bigint; tokenPrice: bigint }
export interface SettleResult { paid: boolean; units: bigint; amount: bigint }

export function billingActions(ctx: GridContext) {
  const { contracts, token, registry } = ctx.addresses;
  return {
    /**
     * Gas money (the chain's native currency, wei) of an account: what its transactions spend.
     * @example const wei = await client.nativeBalanceOf("0xabc…");
     */
    async nativeBalanceOf(account: Address): Promise<bigint> {
      return ctx.publicClient.getBalance({ address: account });
    },
    /**
     * Sends gas money to `to` (e.g. a 3bot's own bus twin, which pays for its twin record).
     * @example await client.sendNative("0xabc…", 10n ** 16n);
     */
    async sendNative(to: Address, wei: bigint): Promise<void> {
      await sendNative(ctx, to, wei);
    },
    /**
     * Charges what a contract owes (anyone may call it). Not paid -> grace period; paid -> created;
     * not paid after the grace period -> deleted (out of funds).
     * @example const { paid, amount } = await client.settle(12);
     */
    async settle(contractId: number): Promise<SettleResult> {
      const receipt = await write(ctx, contracts, gridContractsAbi, "settle", [BigInt(contractId)]);
      const logs = parseEventLogs({ abi: gridContractsAbi, logs: receipt.logs });
      const billed = logs.find((l) => l.eventName === "ContractBilled");
      const unpaid = logs.some((l) => l.eventName === "ContractUnpaid");
      const b = billed?.eventName === "ContractBilled" ? billed.args : undefined;
      return { paid: !unpaid, units: b?.units ?? 0n, amount: b?.amount ?? 0n };
    },
    /** Token balance (base units, 7 decimals) of an account (default: the client's). */
    async balanceOf(account?: Address): Promise<bigint> {
      return read(ctx, token, gridTokenAbi, "balanceOf", [account ?? accountOf(ctx)]);
    },
    async totalSupply(): Promise<bigint> {
      return read(ctx, token, gridTokenAbi, "totalSupply", []);
    },
    async transfer(to: Address, amount: bigint): Promise<void> {
      await write(ctx, token, gridTokenAbi, "transfer", [to, amount]);
    },
    /** ERC-20 approve (not needed for billing: the contracts module is a trusted operator). */
    async approve(spender: Address, amount: bigint): Promise<void> {
      await write(ctx, token, gridTokenAbi, "approve", [spender, amount]);
    },
    async allowance(owner: Address, spender: Address): Promise<bigint> {
      return read(ctx, token, gridTokenAbi, "allowance", [owner, spender]);
    },
    /**
     * ERC-20 transferFrom: moves `amount` from `from` (which approved this client's account for at
     * least that much) to `to`. Reverts with InsufficientAllowance / InsufficientBalance.
     * @example await client.transferFrom(funder, client.account!, 10_000_000n);
     */
    async transferFrom(from: Address, to: Address, amount: bigint): Promise<void> {
      await write(ctx, token, gridTokenAbi, "transferFrom", [from, to, amount]);
    },
    /** The minter (the dev chain's faucet) mints tokens. */
    async mint(to: Address, amount: bigint): Promise<void> {
      await write(ctx, token, gridTokenAbi, "mint", [to, amount]);
    },
    async getPricingPolicy(id = 1): Promise<PricingPolicy> {
      const p = await read(ctx, registry, registryAbi, "getPricingPolicy", [id]);
      return { ...p };
    },
    async pricingPolicyCount(): Promise<number> {
      return read(ctx, registry, registryAbi, "pricingPolicyCount", []);
    },
    async getBillingConfig(): Promise<BillingConfig> {
      const [treasury, farmerPct, burnPct, gracePeriod, tokenPrice] = await Promise.all([
        read(ctx, contracts, gridContractsAbi, "treasury", []),
        read(ctx, contracts, gridContractsAbi, "farmerPct", []),
        read(ctx, contracts, gridContractsAbi, "burnPct", []),
        read(ctx, contracts, gridContractsAbi, "gracePeriod", []),
        read(ctx, contracts, gridContractsAbi, "tokenPrice", []),
      ]);
      return { treasury, farmerPct, burnPct, gracePeriod, tokenPrice };
    },
    /** SU and CU (1e-9 units) and their exact numerators, as the chain computes them. */
    async capacityUnits(r: Resources): Promise<{ suNano: bigint; cuNano: bigint; suNumerator: bigint; cuNumerator: bigint }> {
      const [suNano, cuNano, suNumerator, cuNumerator] = await read(ctx, registry, registryAbi, "capacityUnits", [r]);
      return { suNano, cuNano, suNumerator, cuNumerator };
    },
  };
}
