/**
 * The local dev chain: an EVM (EDR) in this process behind a JSON-RPC server on 127.0.0.1, the zgrid
 * contracts deployed, funded test twins created. With `stateFile`, every state change is journaled
 * and replayed at the next start, so a restarted dev chain keeps its state (and its addresses).
 */
import { createPublicClient, createWalletClient, http, type PublicClient, type TestClient, createTestClient, defineChain, getContractAddress } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { createLogger } from "@zgrid/log";
import type { GridAddresses } from "../abis.ts";
import { createGridClient } from "../client/create-grid-client.ts";
import { createEdrProvider, type EdrProvider } from "./edr-provider.ts";
import { readJournal, replayJournal } from "./journal.ts";
import { startRpcServer } from "./rpc-server.ts";
import { deployGrid } from "./deploy-grid.ts";
import { devAccount, type DevAccount } from "./dev-accounts.ts";

const log = createLogger("chain.devchain");

/**
 * Governance timing on the dev chain: short enough for tests that travel in time, the same rules
 * as a real grid (a real grid's defaults are 3 days of voting and a 2-day timelock).
 */
export const DEV_GOVERNANCE = { minVotingSeconds: 10n, timelockSeconds: 3600n } as const;

export interface DevChainOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  chainId?: number;
  /** Journal file that keeps the chain across restarts. */
  stateFile?: string;
  /** How many funded test twins to create (dev accounts 1..n; default 5). */
  twins?: number;
  /** Tokens minted to each test twin, base units (default 1,000,000 tokens = 10^13). */
  twinFunds?: bigint;
}

export interface DevTwin extends DevAccount { twinId: number }

export interface DevChain {
  rpcUrl: string;
  chainId: number;
  addresses: GridAddresses;
  /** Dev account 0: deployer, admin, council and treasury. */
  admin: DevAccount;
  /** Funded test twins (dev accounts 1..n). */
  twins: DevTwin[];
  /** True when the state came from the state file. */
  restored: boolean;
  provider: EdrProvider;
  publicClient: PublicClient;
  /** Time control: increaseTime, mine, setNextBlockTimestamp … */
  testClient: TestClient;
  /** Moves chain time forward by `seconds` and mines a block. */
  advanceTime(seconds: number | bigint): Promise<void>;
  stop(): Promise<void>;
}

/**
 * @example
 * ```ts
 * const chain = await startDevChain({ port: 0 });
 * const client = createGridClient({ rpcUrl: chain.rpcUrl, addresses: chain.addresses, account: chain.twins[0].privateKey });
 * await chain.stop();
 * ```
 */
export async function startDevChain(options: DevChainOptions = {}): Promise<DevChain> {
  const chainId = options.chainId ?? 31337;
  const nTwins = options.twins ?? 5;
  if (nTwins < 0 || nTwins > 19) throw new RangeError("the dev chain has 19 twin accounts (dev accounts 1..19)");
  const journal = options.stateFile ? readJournal(options.stateFile) : [];
  const restored = journal.length > 0;
  const provider = await createEdrProvider({ chainId, ...(restored ? { initialDate: new Date(0) } : {}) });
  let server;
  try {
    if (restored) await replayJournal(provider, journal);
    server = await startRpcServer({
      provider, host: options.host ?? "127.0.0.1", port: options.port ?? 0,
      ...(options.stateFile ? { journalPath: options.stateFile } : {}),
    });
  } catch (e) {
    await provider.close();
    throw e;
  }
  const chain = defineChain({ id: chainId, name: "zgrid-dev", nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [server.url] } } });
  const publicClient = createPublicClient({ chain, transport: http(server.url), pollingInterval: 20 }) as PublicClient;
  const testClient = createTestClient({ chain, mode: "hardhat", transport: http(server.url) });
  const admin = devAccount(0);
  try {
    const deployer = createWalletClient({ chain, account: privateKeyToAccount(admin.privateKey), transport: http(server.url) });
    // the deployer's first transactions create the contracts at fixed addresses: a restored chain has them
    const code = await publicClient.getCode({ address: predictAddresses(admin).registry });
    const addresses = code && code !== "0x" ? predictAddresses(admin) : await deployGrid({
      publicClient, walletClient: deployer, minter: admin.address, ...DEV_GOVERNANCE,
    });
    const adminClient = createGridClient({ rpcUrl: server.url, addresses, account: admin.privateKey, chainId });
    const twins: DevTwin[] = [];
    for (let i = 1; i <= nTwins; i++) {
      const acc = devAccount(i);
      let twinId = await adminClient.twinIdByAccount(acc.address);
      if (twinId === 0) {
        const c = createGridClient({ rpcUrl: server.url, addresses, account: acc.privateKey, chainId });
        twinId = await c.createTwin({ peerId: acc.peerId, relays: [] });
        await adminClient.mint(acc.address, options.twinFunds ?? 10n ** 13n);
      }
      twins.push({ ...acc, twinId });
    }
    log.info({ rpcUrl: server.url, restored, stateFile: options.stateFile }, "dev chain up");
    const srv = server;
    return {
      rpcUrl: server.url, chainId, addresses, admin, twins, restored, provider, publicClient, testClient,
      async advanceTime(seconds) {
        await testClient.increaseTime({ seconds: Number(seconds) });
        await testClient.mine({ blocks: 1 });
      },
      async stop() {
        await srv.close();
        await provider.close();
      },
    };
  } catch (e) {
    await server.close();
    await provider.close();
    throw e;
  }
}

/** deployGrid's contracts are the deployer's nonces 0..3. */
function predictAddresses(admin: DevAccount): GridAddresses {
  const at = (nonce: number) => getContractAddress({ from: admin.address, nonce: BigInt(nonce) });
  return { token: at(0), registry: at(1), contracts: at(2), governance: at(3) };
}
