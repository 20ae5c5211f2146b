/**
 * Node responsiveness under a hostile twin: p99 latency of `zos.statistics.get` asked by another
 * twin, on an idle node (baseline) and while the hostile twin runs
 *  - the slow-flist attack: 4 contracts whose zmachines download an flist that drips 1 byte every
 *    5 s (each holds a download, never finishes; cancelled at the end), and
 *  - the bus flood: 8 unauthenticated TCP connections to the node's bus port trickling junk, plus
 *    32 authenticated requests in flight at all times (deployments refused by validation).
 * Prints both p99s and the ratio (goal ≤ 2x). Real chain, hub and zosd (run under the VM lock).
 *
 * The victim is measured twice per phase: from a process of its own (bench/hostile/prober.ts: the
 * node's answer time, as a victim on another machine sees it; the ratio that counts) and from this
 * process (which also runs the dev chain, the hub and the attacker's flood: it shows how much of the
 * latency is the measuring process's own event loop, not the node).
 *
 *   flock /tmp/zgrid-vm.lock node bench/hostile/run.ts [--samples 300] [--profile DIR]
 * `--profile DIR`: zosd runs with --cpu-prof and is stopped with SIGTERM at the end, so its CPU
 * profile (what the node spent its time on during the run) lands in DIR.
 */
import { createServer as createHttpServer } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { join } from "node:path";
import { startNodeFixture } from "../../packages/zos/src/testing/node-fixture.ts";
import { deploy, deployment, network, vm } from "../../packages/zos/src/hostile/hostile-grid.ts";

const argIndex = process.argv.indexOf("--samples");
const SAMPLES = argIndex > 0 ? Number(process.argv[argIndex + 1]) : 300;
const profIndex = process.argv.indexOf("--profile");
const PROFILE = profIndex > 0 ? process.argv[profIndex + 1] : undefined;

const timers: NodeJS.Timeout[] = [];
/** Downloads the drip server holds open (the slow-flist attack is only in place when these are 4). */
let dripping = 0;
const drip = createHttpServer((req, res) => {
  dripping++;
  req.socket.on("close", () => dripping--);
  res.writeHead(200);
  timers.push(setInterval(() => res.write("x"), 5000));
});
await new Promise<void>((r) => drip.listen(0, "127.0.0.1", r));
const dripPort = (drip.address() as AddressInfo).port;
const f = await startNodeFixture({ entrypoint: "#!/bin/sh\nexec sleep 100000\n", egressAllow: [`127.0.0.1:${dripPort}`] });
const sockets: Socket[] = [];
const children: ChildProcess[] = [];
// Ctrl-C / kill: take the node down (zosd, networks, mounts, prober) before leaving
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => {
    console.log(`${sig}: stopping the node`);
    for (const c of children) c.kill("SIGKILL");
    void f.stop().finally(() => process.exit(130));
  });
}
let flooding = true;
try {
  const savedOptions = process.env.NODE_OPTIONS;
  if (PROFILE) process.env.NODE_OPTIONS = `${savedOptions ?? ""} --cpu-prof --cpu-prof-dir=${PROFILE}`.trim();
  await f.startNode();
  if (PROFILE) {
    if (savedOptions === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = savedOptions;
  }
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
  // the victim in a process of its own
  const prober = spawn(process.execPath, [join(import.meta.dirname, "prober.ts")], {
    stdio: ["pipe", "pipe", "inherit"],
    env: { ...process.env, ZGRID_PROBER: JSON.stringify({ rpcUrl: f.grid.chain.rpcUrl, addresses: f.grid.chain.addresses, privateKey: f.grid.chain.twins[4]!.privateKey, twinId: f.stranger.id, nodeTwinId: f.node.twinId }) },
  });
  children.push(prober);
  const lines = createInterface({ input: prober.stdout! })[Symbol.asyncIterator]();
  const next = async () => String((await lines.next()).value ?? "");
  if ((await next()) !== "ready") throw new Error("the prober did not start");
  const probe = async (): Promise<{ p50: number; p99: number }> => {
    prober.stdin!.write(`measure ${SAMPLES}\n`);
    return JSON.parse(await next()) as { p50: number; p99: number };
  };
  const idle = await p99();
  const idleOut = await probe();

  // slow flists
  const contracts: number[] = [];
  for (let i = 0; i < 4; i++) {
    const d = await deploy(f, f.user, deployment(f.user.id, [network(20 + i), vm("slow", `http://127.0.0.1:${dripPort}/slow${i}.fl`, `10.88.${20 + i}.5`)], `slow-${i}`));
    contracts.push(d.contract_id);
  }
  // The attack is in place only when the node is downloading the 4 flists (a network that failed
  // to come up leaves its VM in error, not downloading): say so.
  for (let i = 0; i < 100 && dripping < 4; i++) await new Promise((r) => setTimeout(r, 200));
  const slowHeld = dripping;
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
  const attackedOut = await probe();
  flooding = false;
  await Promise.all(floods);
  for (const id of contracts) await f.user.client.cancelContract(id).catch(() => undefined);
  const ratio = attacked / idle;
  const ratioOut = attackedOut.p99 / idleOut.p99;
  console.log(`zos.statistics.get p99, victim in its own process: idle ${idleOut.p99.toFixed(1)} ms (p50 ${idleOut.p50.toFixed(1)}); under slow-flist + bus-flood attack ${attackedOut.p99.toFixed(1)} ms (p50 ${attackedOut.p50.toFixed(1)}); ratio ${ratioOut.toFixed(2)}x (goal <= 2x); slow-flist downloads held by the node: ${slowHeld} of 4`);
  const pid = f.nodePid();
  if (PROFILE && pid) {
    process.kill(pid, "SIGTERM"); // a clean exit writes the profile
    for (let i = 0; i < 100 && (() => { try { process.kill(pid, 0); return true; } catch { return false; } })(); i++) await new Promise((r) => setTimeout(r, 100));
  }
  console.log(`zos.statistics.get p99, victim in the attacker's process (chain, hub, flood share its event loop): idle ${idle.toFixed(1)} ms; attacked ${attacked.toFixed(1)} ms; ratio ${ratio.toFixed(2)}x; ${SAMPLES} samples each`);
} finally {
  flooding = false;
  for (const t of timers) clearInterval(t);
  for (const s of sockets) s.destroy();
  for (const c of children) c.kill("SIGKILL");
  drip.closeAllConnections();
  drip.close();
  await f.stop();
}
