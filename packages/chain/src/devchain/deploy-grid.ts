/**
 * Deploys the four zgrid contracts to any EVM chain, wires them together, then hands every admin
 * power to the Governance contract: after this the deployer key can do nothing a stranger cannot.
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
  /** Who may propose (default: the deployer). Proposing rules nothing: farms vote, a timelock follows. */
  council?: Address[];
  /** The token minter (default none: no tokens are minted). The dev chain sets its faucet account. */
  minter?: Address;
  /** Shortest voting period a proposal may have (default 3 days). */
  minVotingSeconds?: bigint;
  /** Delay between an approved call and when it may run (default 2 days): users see it coming. */
  timelockSeconds?: bigint;
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
  const governance = await deploy(governanceAbi, bytecodes.governance, [
    registry, options.initialZosVersion ?? "v0.1.0", options.council ?? [account.address], [registry, contracts, token],
    options.minVotingSeconds ?? 3n * 86400n, options.timelockSeconds ?? 2n * 86400n,
  ]);
  const minter = options.minter ? [{ address: token, abi: gridTokenAbi, functionName: "setMinter", args: [options.minter] }] as const : [];
  for (const call of [
    { address: registry, abi: registryAbi, functionName: "setContractsModule", args: [contracts] },
    { address: token, abi: gridTokenAbi, functionName: "setOperator", args: [contracts] },
    ...minter,
    { address: registry, abi: registryAbi, functionName: "setAdmin", args: [governance] },
    { address: contracts, abi: gridContractsAbi, functionName: "setAdmin", args: [governance] },
    { address: token, abi: gridTokenAbi, functionName: "setAdmin", args: [governance] },
  ] as const) {
    const hash = await walletClient.writeContract({ ...call, account, chain } as Parameters<typeof walletClient.writeContract>[0]);
    const receipt = await publicClient.waitForTransactionReceipt({ hash, pollingInterval: 20 });
    if (receipt.status !== "success") throw new Error(`${call.functionName} failed: ${hash}`);
  }
  return { token, registry, contracts, governance };
}
