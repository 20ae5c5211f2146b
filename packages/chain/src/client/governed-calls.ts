/**
 * Admin powers as governance calls. After setup the Governance contract is the admin of the Registry,
 * GridContracts and GridToken: each builder here encodes one admin call for `proposeCall`, which
 * farms vote on and which runs only after the timelock.
 */
import { encodeFunctionData, type Address, type Hex } from "viem";
import { governanceAbi, gridContractsAbi, gridTokenAbi, registryAbi, type GridAddresses } from "../abis.ts";
import type { PricingPolicy } from "../pricing.ts";
import type { BillingConfig } from "./billing.ts";

/** One call governance may make: its target contract and calldata, with a readable label. */
export interface GovernedCall { target: Address; data: Hex; label: string }

/**
 * @example
 * ```ts
 * const call = governedCalls(addresses).setPricingPolicy({ ...policy, id: 0 });
 * const id = await council.proposeCall(call, { votingSeconds: 7n * 86400n });
 * ```
 */
export function governedCalls(addresses: GridAddresses) {
  const { registry, contracts, token, governance } = addresses;
  return {
    /** Stores a pricing policy (id 0 creates a new one). */
    setPricingPolicy: (p: PricingPolicy): GovernedCall => ({
      target: registry, label: `setPricingPolicy(${p.id === 0 ? "new" : p.id} "${p.name}")`,
      data: encodeFunctionData({ abi: registryAbi, functionName: "setPricingPolicy", args: [p] }),
    }),
    setFarmPricingPolicy: (farmId: number, policyId: number): GovernedCall => ({
      target: registry, label: `setFarmPricingPolicy(farm ${farmId}, policy ${policyId})`,
      data: encodeFunctionData({ abi: registryAbi, functionName: "setFarmPricingPolicy", args: [farmId, policyId] }),
    }),
    setContractsModule: (module: Address): GovernedCall => ({
      target: registry, label: `setContractsModule(${module})`,
      data: encodeFunctionData({ abi: registryAbi, functionName: "setContractsModule", args: [module] }),
    }),
    setBillingConfig: (c: BillingConfig): GovernedCall => ({
      target: contracts, label: `setBillingConfig(farmer ${c.farmerPct}%, burn ${c.burnPct}%, grace ${c.gracePeriod} s)`,
      data: encodeFunctionData({ abi: gridContractsAbi, functionName: "setBillingConfig", args: [c.treasury, c.farmerPct, c.burnPct, c.gracePeriod, c.tokenPrice] }),
    }),
    /** Cancels any contract (cause canceled_by_collective), e.g. for abuse. */
    cancelContract: (contractId: number): GovernedCall => ({
      target: contracts, label: `adminCancelContract(${contractId})`,
      data: encodeFunctionData({ abi: gridContractsAbi, functionName: "adminCancelContract", args: [BigInt(contractId)] }),
    }),
    setCouncilMember: (account: Address, member: boolean): GovernedCall => ({
      target: governance, label: `setCouncilMember(${account}, ${member})`,
      data: encodeFunctionData({ abi: governanceAbi, functionName: "setCouncilMember", args: [account, member] }),
    }),
    /** How many nodes failing a release's health gate mark it unsafe (stopping its rollout). */
    setUnsafeAfterFailures: (count: number): GovernedCall => ({
      target: governance, label: `setUnsafeAfterFailures(${count})`,
      data: encodeFunctionData({ abi: governanceAbi, functionName: "setUnsafeAfterFailures", args: [count] }),
    }),
    setMinter: (account: Address): GovernedCall => ({
      target: token, label: `setMinter(${account})`,
      data: encodeFunctionData({ abi: gridTokenAbi, functionName: "setMinter", args: [account] }),
    }),
  };
}
