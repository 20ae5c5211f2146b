/**
 * Deploys the four zgrid contracts to any EVM chain and wires them together.
 */
import { getAddress, type Account, type Address, type Chain, type PublicClient, type Transport, type WalletClient } from "viem";
import { gridTokenAbi, registryAbi, gridContractsAbi, governanceAbi, bytecodes, type GridAddresses } from "../abis.ts";
import { DEV_PRICING_POLICY, type PricingPolicy } from "../pricing.ts";

export interface DeployGridOptions {
  publicClient: PublicClient;
  walletClient: WalletClient<Transport, Chain | undefined, Account>;
  /** Receives the treasury share of every payment (default: the deployer). */
  treasury?: Address;
  pricingPolicy?: PricingPolicy;
  /** The Zero-OS version nodes run before any proposal passes. */
  initialZosVersion?: string;
}

/**
 * @example
 * ```ts
 * const addresses = await deployGrid({ publicClient, walletClient });
 * ```
 */
export async function deployGrid(options: DeployGridOptions): Promise<GridAddresses> {
  const { publicClient, walletClient } = options;
  const account = walletClient.account;
  const chain = walletClient.chain;
  const deploy = async (abi: readonly unknown[], bytecode: `0x${string}`, args: readonly unknown[]): Promise<Address> => {
    const hash = await walletClient.deployContract({ abi, bytecode, args, account, chain } as Parameters<typeof walletClient.deployContract>[0]);
    const receipt = await publicClient.waitForTransactionReceipt({ hash, pollingInterval: 20 });
    if (!receipt.contractAddress || receipt.status !== "success") throw new Error(`deployment failed: ${hash}`);
    return getAddress(receipt.contractAddress);
  };
  const p = options.pricingPolicy ?? DEV_PRICING_POLICY;
  const token = await deploy(gridTokenAbi, bytecodes.token, []);
  const registry = await deploy(registryAbi, bytecodes.registry, [{ ...p, id: 0 }]);
  const contracts = await deploy(gridContractsAbi, bytecodes.contracts, [registry, token, options.treasury ?? account.address]);
  const governance = await deploy(governanceAbi, bytecodes.governance, [registry, options.initialZosVersion ?? "v0.1.0"]);
  for (const call of [
    { address: registry, abi: registryAbi, functionName: "setContractsModule", args: [contracts] },
    { address: token, abi: gridTokenAbi, functionName: "setOperator", args: [contracts] },
  ] as const) {
    const hash = await walletClient.writeContract({ ...call, account, chain } as Parameters<typeof walletClient.writeContract>[0]);
    const receipt = await publicClient.waitForTransactionReceipt({ hash, pollingInterval: 20 });
    if (receipt.status !== "success") throw new Error(`${call.functionName} failed: ${hash}`);
  }
  return { token, registry, contracts, governance };
}
