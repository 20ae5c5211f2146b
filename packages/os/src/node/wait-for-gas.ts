/**
 * A new node's account has no funds to pay for its chain transactions (twin, node registration,
 * uptime). The farmer funds it (`zgrid node fund <account>`); until then the node says so on its
 * console, every `everyMs`, and waits — instead of zosd exiting with NODE_NOT_FUNDED in a loop.
 * `eth_getBalance` through @zgrid/chain/reader (no contract addresses needed), each call bounded in
 * time (10 s) and answer size (4 KiB: a balance is a few dozen bytes).
 *
 * @example
 * ```ts
 * await waitForGas({ rpcUrl: "http://10.4.0.1:8545", account: "0x…", say: console.log });
 * ```
 */
import { nativeBalance } from "@zgrid/chain/reader";
import { BaseError } from "@zgrid/types";

export async function waitForGas(o: { rpcUrl: string; account: string; say: (line: string) => void; everyMs?: number; pollMs?: number; signal?: AbortSignal }): Promise<bigint> {
  let lastSaid = 0;
  for (;;) {
    o.signal?.throwIfAborted();
    let why: string;
    try {
      const b = await nativeBalance({ rpcUrl: o.rpcUrl, account: o.account, timeoutMs: 10_000, maxBytes: 4096 });
      if (b > 0n) return b;
      why = "has no funds to pay for its chain transactions";
    } catch (e) {
      why = `cannot be checked: ${e instanceof BaseError ? e.shortMessage : (e as Error).message}`;
    }
    if (Date.now() - lastSaid >= (o.everyMs ?? 30_000)) {
      o.say(`account ${o.account} ${why}; the farmer funds it: zgrid node fund ${o.account}`);
      lastSaid = Date.now();
    }
    await new Promise((r) => setTimeout(r, o.pollMs ?? 2_000));
  }
}
