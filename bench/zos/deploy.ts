// Control-plane overhead of the node daemon: deploy-to-entrypoint of a zmachine through zosd (bus
// request, signature and contract checks, flist mount + verification, disks, network, QEMU) vs a
// bare QEMU boot of the same guest kernel, initramfs and busybox root; warm and cold block cache;
// daemon idle RSS; how many small VMs this machine holds.
//   node bench/zos/deploy.ts [runs=3]
import { existsSync, readFileSync, rmSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { deploymentHashHex, parseDeployment, signDeployment, type Deployment } from "../../packages/types/src/index.ts";
import { buildBusyboxRoot } from "../../packages/zos/src/hypervisor/test-fixtures.ts";
import { bareBoot } from "./bare-boot.ts";
import { randomWgKey, startNodeFixture } from "../../packages/zos/src/testing/node-fixture.ts";
import { hostSnapshot, reportLeftovers, stopOnSignal } from "./host-leftovers.ts";

const runs = Number(process.argv[2] ?? 3);
const MARKER = "BENCH-ENTRY";
const ENTRY = `#!/bin/sh\necho ${MARKER}\nexec sleep 100000\n`;
const MiB = 1024 ** 2;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rssKiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);

const before = hostSnapshot();
const loadAtStart = loadavg()[0]!;
const work = await mkdtemp("/tmp/zbench-deploy-");
const root = join(work, "root");
await buildBusyboxRoot(root, ENTRY);
const f = await startNodeFixture({ entrypoint: ENTRY });
stopOnSignal(async () => {
  await f.stop();
  rmSync(work, { recursive: true, force: true });
}, before);
try {
  await f.startNode();
  const wg = randomWgKey();
  let seq = 0;
  /** Where a deploy's time goes: zosd before QEMU starts (request, checks, flist mount + verify, disks, network), then QEMU to the entrypoint. */
  const split = (consoleText: string, t0Wall: number, endWall: number) => {
    const starts = [...consoleText.matchAll(/zgrid-host: qemu start \([a-z]+\) at (\S+)/g)];
    const at = starts.length ? Date.parse(starts.at(-1)![1]!) : NaN;
    return { beforeQemu: at - t0Wall, qemuToEntry: endWall - at };
  };
  const deploy = async (withNetwork: boolean): Promise<{ ms: number; okMs: number; d: Deployment; beforeQemu: number; qemuToEntry: number }> => {
    const n = seq++;
    const json = {
      version: 0, twin_id: f.user.id, metadata: `bench-${n}`,
      signature_requirement: { requests: [{ twin_id: f.user.id, required: true, weight: 1 }], weight_required: 1 },
      workloads: [
        ...(withNetwork ? [{ name: "net", type: "network", data: { ip_range: "10.88.0.0/16", subnet: "10.88.1.0/24", wireguard_private_key: wg, wireguard_listen_port: 51900, peers: [] } }] : []),
        { name: `vm${n}`, type: "zmachine", data: { flist: f.flistUrl, network: { interfaces: [{ network: "net", ip: `10.88.1.${10 + n}` }] }, compute_capacity: { cpu: 1, memory: 256 * MiB }, entrypoint: "/start.sh" } },
      ],
    };
    const parsed = parseDeployment(json, { externalNetworks: ["net"] });
    const contractId = await f.user.client.createNodeContract({ nodeId: f.node.nodeId, deploymentHash: deploymentHashHex(parsed) });
    const signed = signDeployment({ ...parsed, contract_id: contractId }, f.user.id, f.user.key);
    // The entrypoint's line on the VM's console (the host file QEMU writes) is the moment it ran:
    // watched directly, not through the node's report, which comes after its own bookkeeping.
    const consolePath = f.hypervisor.paths(`${f.user.id}-${contractId}-vm${n}`).consoleLog;
    const t0 = performance.now();
    const t0Wall = Date.now();
    let entry: { ms: number; wall: number; text: string } | undefined;
    const watching = (async () => {
      while (!entry) {
        const text = existsSync(consolePath) ? readFileSync(consolePath, "utf8") : "";
        if (text.includes(MARKER)) entry = { ms: performance.now() - t0, wall: Date.now(), text };
        else await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await f.user.bus.request(f.node.twinId, "zos.deployment.deploy", signed);
    for (;;) {
      const d = await f.user.bus.request<Deployment>(f.node.twinId, "zos.deployment.get", { contract_id: contractId });
      const vm = d.workloads.find((w) => w.type === "zmachine")?.result;
      if (vm?.state === "error") throw new Error(vm.message);
      if (vm?.state === "ok") {
        const okMs = performance.now() - t0;
        await watching;
        return { ms: entry!.ms, okMs, d, ...split(entry!.text, t0Wall, entry!.wall) };
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const cancel = async (d: Deployment) => {
    await f.user.client.cancelContract(d.contract_id);
    for (;;) {
      const x = await f.user.bus.request<Deployment>(f.node.twinId, "zos.deployment.get", { contract_id: d.contract_id });
      if (x.workloads.every((w) => w.result?.state === "deleted")) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const first = await deploy(true); // holds the network; its flist blocks warm the cache
  const bare: number[] = [];
  const shaped: number[] = [];
  const warm: number[] = [];
  const cold: number[] = [];
  const warmSplit: Array<{ beforeQemu: number; qemuToEntry: number }> = [];
  const okLag: number[] = [];
  for (let i = 0; i < runs; i++) {
    bare.push(await bareBoot({ root, work, entrypoint: ["/start.sh"], marker: MARKER, memoryMiB: 256, timeoutMs: 300_000 }));
    shaped.push(await bareBoot({ root, work, entrypoint: ["/start.sh"], marker: MARKER, memoryMiB: 256, timeoutMs: 300_000, shape: "zmachine" }));
    const w = await deploy(false);
    warm.push(w.ms);
    warmSplit.push({ beforeQemu: w.beforeQemu, qemuToEntry: w.qemuToEntry });
    okLag.push(w.okMs - w.ms);
    await cancel(w.d);
    rmSync(join(f.node.dataDir, "cache", "blocks"), { recursive: true, force: true });
    const c = await deploy(false);
    cold.push(c.ms);
    await cancel(c.d);
    console.log(`run ${i + 1}: bare ${bare[i]!.toFixed(0)} ms, bare zmachine-shaped ${shaped[i]!.toFixed(0)} ms, warm ${warm[i]!.toFixed(0)} ms (zosd before QEMU ${w.beforeQemu.toFixed(0)}, QEMU to entrypoint ${w.qemuToEntry.toFixed(0)}), cold ${cold[i]!.toFixed(0)} ms, load ${loadavg()[0]!.toFixed(1)}`);
  }
  await new Promise((r) => setTimeout(r, 3000));
  const idleRss = rssKiB(f.nodePid()!);
  const vmPid = (await f.hypervisor.status(`${f.user.id}-${first.d.contract_id}-vm0`)).pid!;
  const vmRss = rssKiB(vmPid);
  const reserve = Math.max(totalmem() * 0.1, 2 * 1024 ** 3);
  const b = median(bare);
  console.log(`bare QEMU boot-to-entrypoint      ${b.toFixed(0)} ms (median of ${runs})`);
  console.log(`zosd deploy-to-entrypoint, warm   ${median(warm).toFixed(0)} ms  ratio ${(median(warm) / b).toFixed(2)}x (goal <= 1.2x)`);
  console.log(`  of which zosd before QEMU       ${median(warmSplit.map((x) => x.beforeQemu)).toFixed(0)} ms; QEMU to entrypoint ${median(warmSplit.map((x) => x.qemuToEntry)).toFixed(0)} ms (bare ${b.toFixed(0)} ms: ratio ${(median(warmSplit.map((x) => x.qemuToEntry)) / b).toFixed(2)}x)`);
  const bs = median(shaped);
  console.log(`  the node reports the VM ok      ${median(okLag).toFixed(0)} ms after the entrypoint ran (negative: before)`);
  console.log(`bare QEMU, zmachine-shaped         ${bs.toFixed(0)} ms (+ root disk, NIC, agent port: the devices zosd gives the VM)`);
  console.log(`zosd warm vs the same-shaped guest ${(median(warm) / bs).toFixed(2)}x; QEMU to entrypoint vs it ${(median(warmSplit.map((x) => x.qemuToEntry)) / bs).toFixed(2)}x (the rest: the flist root over FUSE, zosd's guest config)`);
  console.log(`zosd deploy-to-entrypoint, cold   ${median(cold).toFixed(0)} ms  ratio ${(median(cold) / b).toFixed(2)}x (blocks from the hub over loopback http)`);
  console.log(`zosd idle RSS                     ${(idleRss / 1024).toFixed(1)} MiB`);
  console.log(`one 256 MiB VM: QEMU RSS          ${(vmRss / 1024).toFixed(1)} MiB`);
  console.log(`load avg                          ${loadAtStart.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end (2 cores; TCG boot times grow with it)`);
  console.log(`small VMs this machine holds      ${Math.floor((totalmem() - reserve) / (256 * MiB))} by reserved memory (256 MiB each), ${Math.floor((totalmem() - reserve) / (vmRss * 1024))} by measured RSS`);
} finally {
  await f.stop();
  rmSync(work, { recursive: true, force: true });
  reportLeftovers(before);
}
