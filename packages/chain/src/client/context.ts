/**
 * What every client action needs: a public client (reads, receipts), an optional wallet client
 * (writes) and the contracts' addresses. Built by createGridClient.
 */
import {
  createPublicClient, createWalletClient, custom, defineChain, http, type Abi, type Account, type Address, type Chain,
  type Hash, type Hex, type PublicClient, type Transport, type TransactionReceipt, type WalletClient,
  type ContractFunctionName, type ContractFunctionArgs, type ReadContractReturnType,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import type { GridAddresses } from "../abis.ts";
import { ChainError } from "../errors/chain-error.ts";
import { toChainError } from "../errors/decode-revert.ts";

export interface GridClientOptions {
  /** JSON-RPC URL of the chain (alternative to publicClient/walletClient). */
  rpcUrl?: string;
  publicClient?: PublicClient;
  walletClient?: WalletClient<Transport, Chain | undefined, Account>;
  /** The signing account: a 0x private key or a viem Account (needed for writes with rpcUrl). */
  account?: Hex | Account;
  addresses: GridAddresses;
  /** Chain id when building clients from rpcUrl (default 31337, the dev chain). */
  chainId?: number;
  /** How often to poll for receipts and events, ms (default 50). */
  pollingIntervalMs?: number;
}

export interface GridContext {
  addresses: GridAddresses;
  publicClient: PublicClient;
  walletClient: WalletClient<Transport, Chain | undefined, Account> | undefined;
  pollingIntervalMs: number;
  /** Local nonce and fee caches: a write costs estimate + send + receipt, not 7 round trips. */
  txState: { nextNonce?: number; nonceLoading?: Promise<void>; fees?: { at: number; value: FeeFields } };
}

type FeeFields = { maxFeePerGas?: bigint; maxPriorityFeePerGas?: bigint; gasPrice?: bigint };

export function createContext(options: GridClientOptions): GridContext {
  const pollingIntervalMs = options.pollingIntervalMs ?? 50;
  const chain = defineChain({
    id: options.chainId ?? 31337, name: "zgrid", nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: options.rpcUrl ? [options.rpcUrl] : [] } },
  });
  let publicClient = options.publicClient;
  if (!publicClient) {
    if (!options.rpcUrl) throw new ChainError("a grid client needs rpcUrl or publicClient");
    publicClient = createPublicClient({ chain, transport: http(options.rpcUrl, { batch: false }), pollingInterval: pollingIntervalMs }) as PublicClient;
  }
  let walletClient = options.walletClient;
  if (!walletClient && options.account) {
    const account = typeof options.account === "string" ? privateKeyToAccount(options.account) : options.account;
    // without a URL, send through the public client's transport
    const transport = options.rpcUrl ? http(options.rpcUrl) : custom({ request: publicClient.request });
    walletClient = createWalletClient({ chain: publicClient.chain ?? chain, account, transport });
  }
  return { addresses: options.addresses, publicClient, walletClient, pollingIntervalMs, txState: {} };
}

/** Reads a view function; reverts become typed errors. */
export async function read<const abi extends Abi, fn extends ContractFunctionName<abi, "view" | "pure">>(
  ctx: GridContext, address: Address, abi: abi, functionName: fn,
  args: ContractFunctionArgs<abi, "view" | "pure", fn>,
): Promise<ReadContractReturnType<abi, fn>> {
  try {
    return (await ctx.publicClient.readContract({ address, abi, functionName, args } as never)) as ReadContractReturnType<abi, fn>;
  } catch (e) {
    throw toChainError(e, String(functionName));
  }
}

/** Sends a transaction and waits for its receipt; reverts become typed errors. */
export async function write<const abi extends Abi, fn extends ContractFunctionName<abi, "nonpayable" | "payable">>(
  ctx: GridContext, address: Address, abi: abi, functionName: fn,
  args: ContractFunctionArgs<abi, "nonpayable" | "payable", fn>,
): Promise<TransactionReceipt> {
  const wallet = ctx.walletClient;
  if (!wallet) throw new ChainError(`${String(functionName)} needs an account`, { hint: "create the client with an account (private key)" });
  let hash: Hash;
  try {
    // estimate ourselves and add 25%: concurrent transactions can change the gas a call needs
    // between the estimate and the execution (e.g. a storage slot another transaction just wrote)
    // estimate as a JSON-RPC account (from only): a local account would make viem fill nonce and fees first
    const estimate = await ctx.publicClient.estimateContractGas({ address, abi, functionName, args, account: wallet.account.address } as never);
    const gas = (estimate * 125n) / 100n;
    const fees = await feesOf(ctx);
    hash = await sendWithNonce(ctx, (nonce) =>
      wallet.writeContract({ address, abi, functionName, args, account: wallet.account, chain: wallet.chain, gas, nonce, ...fees } as never));
  } catch (e) {
    throw toChainError(e, String(functionName));
  }
  const receipt = await waitForReceipt(ctx, hash);
  if (receipt.status !== "success") {
    // mined but reverted (state changed between estimate and execution): replay it to get the reason
    try {
      await ctx.publicClient.simulateContract({ address, abi, functionName, args, account: wallet.account, blockNumber: receipt.blockNumber } as never);
    } catch (e) {
      throw toChainError(e, String(functionName));
    }
    throw new ChainError(`${String(functionName)} reverted in block ${receipt.blockNumber}`, { details: { hash } });
  }
  return receipt;
}

/**
 * Sends `value` wei of the chain's native currency (gas money) to `to` and waits for it to be mined.
 * @example await sendNative(ctx, "0xabc…", 10n ** 16n);
 */
export async function sendNative(ctx: GridContext, to: Address, value: bigint): Promise<TransactionReceipt> {
  const wallet = ctx.walletClient;
  if (!wallet) throw new ChainError("sending gas money needs an account", { hint: "create the client with an account (private key)" });
  let hash: Hash;
  try {
    const fees = await feesOf(ctx);
    hash = await sendWithNonce(ctx, (nonce) => wallet.sendTransaction({ to, value, account: wallet.account, chain: wallet.chain, gas: 21_000n, nonce, ...fees } as never));
  } catch (e) {
    throw toChainError(e, "sendNative");
  }
  const receipt = await waitForReceipt(ctx, hash);
  if (receipt.status !== "success") throw new ChainError(`sending ${value} wei to ${to} failed in block ${receipt.blockNumber}`, { details: { hash } });
  return receipt;
}

/** Fees cached for a second; the max fee is twice the estimate so a rising base fee still fits. */
async function feesOf(ctx: GridContext): Promise<FeeFields> {
  const cached = ctx.txState.fees;
  if (cached && Date.now() - cached.at < 1000) return cached.value;
  const f = (await ctx.publicClient.estimateFeesPerGas()) as FeeFields;
  const value: FeeFields = f.maxFeePerGas !== undefined
    ? { maxFeePerGas: f.maxFeePerGas * 2n, maxPriorityFeePerGas: f.maxPriorityFeePerGas ?? 0n }
    : { gasPrice: (f.gasPrice ?? 0n) * 2n };
  ctx.txState.fees = { at: Date.now(), value };
  return value;
}

/**
 * Sends with a locally counted nonce (fetched once); when the chain says the nonce is wrong (another
 * client of the same account sent meanwhile), fetches it again and retries.
 */
async function sendWithNonce(ctx: GridContext, send: (nonce: number) => Promise<Hash>): Promise<Hash> {
  const st = ctx.txState;
  for (let attempt = 0; ; attempt++) {
    if (st.nextNonce === undefined) {
      st.nonceLoading ??= ctx.publicClient
        .getTransactionCount({ address: accountOf(ctx), blockTag: "pending" })
        .then((n) => { st.nextNonce = n; })
        .finally(() => { st.nonceLoading = undefined; });
      await st.nonceLoading;
    }
    const nonce = st.nextNonce!;
    st.nextNonce = nonce + 1;
    try {
      return await send(nonce);
    } catch (e) {
      st.nextNonce = undefined;
      if (attempt < 3 && /nonce/i.test(e instanceof Error ? e.message : String(e))) continue;
      throw e;
    }
  }
}

/** Polls for a receipt: at once, then with growing pauses up to the polling interval. */
export async function waitForReceipt(ctx: GridContext, hash: Hash, timeoutMs = 120_000): Promise<TransactionReceipt> {
  const start = Date.now();
  let pause = 0;
  while (true) {
    try {
      return await ctx.publicClient.getTransactionReceipt({ hash });
    } catch (e) {
      if (!(e instanceof Error) || e.name !== "TransactionReceiptNotFoundError") throw toChainError(e, "getTransactionReceipt");
    }
    if (Date.now() - start > timeoutMs) throw new ChainError(`transaction ${hash} not mined after ${timeoutMs} ms`, { hint: "is the chain mining?" });
    await new Promise((r) => setTimeout(r, pause));
    pause = Math.min(ctx.pollingIntervalMs, pause * 2 + 5);
  }
}

/** The wallet's account address, or an error saying an account is needed. */
export function accountOf(ctx: GridContext): Address {
  if (!ctx.walletClient) throw new ChainError("this call needs an account", { hint: "create the client with an account (private key)" });
  return ctx.walletClient.account.address;
}
