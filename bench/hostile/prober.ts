/**
 * Child process of bench/hostile/run.ts: the victim twin on a machine of its own (a process of its
 * own here), so what it measures is the node's answer time, not the attacker's own event loop
 * (the bench process also runs the dev chain, the hub and the attacking twin's 32 signed
 * requests in flight). Reads `measure <samples>` lines on stdin, answers one JSON line each:
 * `{"p50":…,"p99":…}` of `zos.statistics.get` round trips in ms.
 *   ZGRID_PROBER='{"rpcUrl":…,"addresses":…,"privateKey":"0x…","twinId":5,"nodeTwinId":7}' node bench/hostile/prober.ts
 */
import { createInterface } from "node:readline";
import { createBus } from "../../packages/bus/src/index.ts";
import { chainTwinDirectory, createGridClient } from "../../packages/chain/src/client/index.ts";
import { twinKeyFromPrivateKey } from "../../packages/types/src/index.ts";

const o = JSON.parse(process.env.ZGRID_PROBER ?? "{}") as { rpcUrl: string; addresses: Parameters<typeof createGridClient>[0]["addresses"]; privateKey: `0x${string}`; twinId: number; nodeTwinId: number };
const client = createGridClient({ rpcUrl: o.rpcUrl, addresses: o.addresses });
const bus = await createBus({ key: twinKeyFromPrivateKey(o.privateKey), twinId: o.twinId, directory: chainTwinDirectory(client) });
const ask = () => bus.request(o.nodeTwinId, "zos.statistics.get", {}, { timeout: 30_000 });
await ask(); // dial
process.stdout.write("ready\n");
for await (const line of createInterface({ input: process.stdin })) {
  const n = Number(/^measure (\d+)$/.exec(line)?.[1] ?? 0);
  if (!n) break;
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await ask();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(ms.length * q))] ?? 0;
  process.stdout.write(`${JSON.stringify({ p50: at(0.5), p99: at(0.99) })}\n`);
}
await bus.stop();
process.exit(0);
