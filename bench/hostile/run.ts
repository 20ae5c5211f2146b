/**
 * Node responsiveness under a hostile twin: p99 latency of `zos.statistics.get` asked by another
 * twin, on an idle node (baseline) and while the hostile twin runs
 *  - the slow-flist attack: 4 contracts whose zmachines download an flist that drips 1 byte every
 *    5 s (each holds a download, never finishes; cancelled at the end), and
 *  - the bus flood: 8 unauthenticated TCP connections to the node's bus port trickling junk, plus
 *    32 authenticated requests in flight at all times (deployments refused by validation).
 * Prints both p99s and the ratio (goal ≤ 2x). Real chain, hub and zosd (run under the VM lock).
 *
 *   flock /tmp/zgrid-vm.lock node bench/hostile/run.ts [--samples 300]
 */
import { createServer as createHttpServer } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startNodeFixture } from "../../packages/zos/src/testing/node-fixture.ts";
import { deploy, deployment, network, vm } from "../../packages/zos/src/hostile/hostile-grid.ts";

const argIndex = process.argv.indexOf("--samples");
const SAMPLES = argIndex > 0 ? Number(process.argv[argIndex + 1]) : 300;

const timers: NodeJS.Timeout[] = [];
const drip = createHttpServer((_req, res) => {
  res.writeHead(200);
  timers.push(setInterval(() => res.write("x"), 5000));
});
await new Promise<void>((r) => drip.listen(0, "127.0.0.1", r));
const dripPort = (drip.address() as AddressInfo).port;
const f = await startNodeFixture({ entrypoint: "#!/bin/sh\nexec sleep 100000\n", egressAllow: [`127.0.0.1:${dripPort}`] });
const sockets: Socket[] = [];
let flooding = true;
try {
  await f.startNode();
  const ask = () => f.stranger.bus.request(f.node.twinId, "zos.statistics.get", {}, { timeout: 30_000 });
  await ask(); // dial
  const p99 = async (): Promise<number> => {
    const ms: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const t0 = performance.now();
      await ask();
      ms.push(performance.now() - t0);
    }
    ms.sort((a, b) => a - b);
    return ms[Math.min(ms.length - 1, Math.floor(ms.length * 0.99))]!;
  };
  const idle = await p99();

  // slow flists
  const contracts: number[] = [];
  for (let i = 0; i < 4; i++) {
    const d = await deploy(f, f.user, deployment(f.user.id, [network(20 + i), vm("slow", `http://127.0.0.1:${dripPort}/slow${i}.fl`, `10.88.${20 + i}.5`)], `slow-${i}`));
    contracts.push(d.contract_id);
  }
  // bus flood: unauthenticated connections trickling junk to the bus port, and refused requests in flight
  const busPort = Number(readFileSync(join(f.node.dataDir, "bus.port"), "utf8").trim());
  for (let i = 0; i < 8; i++) {
    const s = connect({ host: "127.0.0.1", port: busPort });
    s.on("error", () => undefined);
    s.on("connect", () => s.write("/multistream/1.0.0\n"));
    timers.push(setInterval(() => { if (!s.destroyed) s.write(Buffer.alloc(16 * 1024, 0x41)); }, 100));
    sockets.push(s);
  }
  const junk = { version: 0, twin_id: f.user.id, contract_id: 1, workloads: [{ name: "x".repeat(200), type: "nope" }] };
  const floodLoop = async () => {
    while (flooding) await f.user.bus.request(f.node.twinId, "zos.deployment.deploy", junk, { timeout: 30_000 }).catch(() => undefined);
  };
  const floods = Array.from({ length: 32 }, floodLoop);
  await new Promise((r) => setTimeout(r, 2000));
  const attacked = await p99();
  flooding = false;
  await Promise.all(floods);
  for (const id of contracts) await f.user.client.cancelContract(id).catch(() => undefined);
  const ratio = attacked / idle;
  console.log(`zos.statistics.get p99 idle: ${idle.toFixed(1)} ms; under slow-flist + bus-flood attack: ${attacked.toFixed(1)} ms; ratio ${ratio.toFixed(2)}x (goal <= 2x), ${SAMPLES} samples each`);
} finally {
  flooding = false;
  for (const t of timers) clearInterval(t);
  for (const s of sockets) s.destroy();
  drip.closeAllConnections();
  drip.close();
  await f.stop();
}
