/**
 * An in-process EVM (Hardhat 3's EDR) as an EIP-1193 provider. Hardhat is used only for its
 * simulated network; nothing is compiled or downloaded.
 */
import { createHardhatRuntimeEnvironment } from "hardhat/hre";

export interface Eip1193Provider {
  request(args: { method: string; params?: unknown[] | object }): Promise<unknown>;
}

export interface EdrProvider extends Eip1193Provider {
  close(): Promise<void>;
}

export interface EdrProviderOptions {
  chainId?: number;
  /** Block gas limit (default 60M: room for the bench's big settles). */
  blockGasLimit?: number;
  /** Unix seconds of the first block (default: now). */
  initialDate?: Date;
}

/** Hardhat's default dev mnemonic: its 20 accounts are funded with 10,000 ETH each. */
export const DEV_MNEMONIC = "test test test test test test test test test test test junk";

/**
 * Starts an EDR chain in this process.
 *
 * @example
 * ```ts
 * const provider = await createEdrProvider({ chainId: 31337 });
 * await provider.request({ method: "eth_blockNumber" });
 * await provider.close();
 * ```
 */
export async function createEdrProvider(options: EdrProviderOptions = {}): Promise<EdrProvider> {
  const hre = await createHardhatRuntimeEnvironment(
    {
      networks: {
        zgrid: {
          type: "edr-simulated",
          chainId: options.chainId ?? 31337,
          blockGasLimit: options.blockGasLimit ?? 60_000_000,
          mining: { auto: true, interval: 0 },
          accounts: { mnemonic: DEV_MNEMONIC, count: 20, accountsBalance: 10n ** 22n },
          ...(options.initialDate ? { initialDate: options.initialDate.toISOString() } : {}),
        },
      },
    },
    {},
    process.cwd(),
  );
  const connection = await hre.network.connect({ network: "zgrid" });
  const provider = connection.provider;
  return {
    request: (args) => provider.request(args as { method: string; params?: unknown[] }),
    close: () => connection.close(),
  };
}
