/**
 * A new node's account has no funds to pay for its chain transactions (twin, node registration,
 * uptime). The farmer funds it (`zgrid node fund <account>`); until then the node says so on its
 * console, every `everyMs`, and waits — instead of zosd exiting with NODE_NOT_FUNDED in a loop.
 * Plain JSON-RPC (`eth_getBalance`), bounded per call.
 *
 * @example
 * ```ts
 * await waitForGas({ rpcUrl: "http://10.4.0.1:8545", account: "0x…", say: console.log });
 * ```
 */
export async function balanceOf(rpcUrl: string, account: string, timeoutMs = 10_000): Promise<bigint> {
  const res = await fetch(rpcUrl, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_getBalance", params: [account, "latest"] }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  if (text.length > 4096) throw new Error("chain RPC answered with more than 4 KiB");
  const body = JSON.parse(text) as { result?: unknown; error?: { message?: string } };
  if (typeof body.result !== "string" || !/^0x[0-9a-fA-F]{1,64}$/.test(body.result)) throw new Error(`chain RPC: ${body.error?.message ?? "no balance in the answer"}`);
  return BigInt(body.result);
}

export async function waitForGas(o: { rpcUrl: string; account: string; say: (line: string) => void; everyMs?: number; pollMs?: number; signal?: AbortSignal }): Promise<bigint> {
  let lastSaid = 0;
  for (;;) {
    o.signal?.throwIfAborted();
    let why: string;
    try {
      const b = await balanceOf(o.rpcUrl, o.account);
      if (b > 0n) return b;
      why = "has no funds to pay for its chain transactions";
    } catch (e) {
      why = `cannot be checked: ${(e as Error).message}`;
    }
    if (Date.now() - lastSaid >= (o.everyMs ?? 30_000)) {
      o.say(`account ${o.account} ${why}; the farmer funds it: zgrid node fund ${o.account}`);
      lastSaid = Date.now();
    }
    await new Promise((r) => setTimeout(r, o.pollMs ?? 2_000));
  }
}
