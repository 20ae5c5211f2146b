// Micro-VM boot benchmark: bare QEMU boot-to-entrypoint vs the same boot through @zgrid/zos's
// Hypervisor (disk creation, config share, daemonize, QMP, console polling), and RSS per small VM.
//   node bench/zos/boot.ts [runs=3] [vms=3]
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { Hypervisor } from "../../packages/zos/src/index.ts";
import { buildBusyboxRoot } from "../../packages/zos/src/hypervisor/test-fixtures.ts";
import { bareBoot as bareBootAt } from "./bare-boot.ts";

const runs = Number(process.argv[2] ?? 3);
const vmCount = Number(process.argv[3] ?? 3);
const MARKER = "BENCH-ENTRY";
const work = await mkdtemp("/tmp/zbench-");
const root = join(work, "root");
await buildBusyboxRoot(root, `#!/bin/sh\necho ${MARKER}\nexec sleep 100000\n`);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const bareBoot = () => bareBootAt({ root, work, entrypoint: ["/bin/sh", "/start.sh"], marker: MARKER });

const hv = new Hypervisor({ stateDir: join(work, "s"), accel: "tcg" });
/** Through Hypervisor.start; withDisk adds a 64 MiB ext4 root disk (mkfs on the host, ext4 upper). */
async function hypervisorBoot(id: string, memoryMiB = 128, withDisk = true): Promise<number> {
  const t0 = performance.now();
  await hv.start({ id, memoryMiB, rootShare: root, ...(withDisk ? { rootDisk: { path: join(work, `${id}.img`), sizeBytes: 64 << 20 } } : {}), entrypoint: ["/bin/sh", "/start.sh"] });
  await hv.waitForConsole(id, new RegExp(MARKER), 60_000);
  return performance.now() - t0;
}

/** RSS and PSS (shared pages such as the mmapped guest kernel split between the VMs) in KiB. */
async function memKiB(pid: number): Promise<{ rss: number; pss: number }> {
  const t = await readFile(`/proc/${pid}/smaps_rollup`, "utf8");
  return { rss: Number(/^Rss:\s+(\d+)/m.exec(t)?.[1] ?? 0), pss: Number(/^Pss:\s+(\d+)/m.exec(t)?.[1] ?? 0) };
}

try {
  const bare: number[] = [];
  const viaHv: number[] = [];
  const viaHvDisk: number[] = [];
  for (let i = 0; i < runs; i++) {
    bare.push(await bareBoot());
    viaHv.push(await hypervisorBoot(`t${i}`, 128, false));
    viaHvDisk.push(await hypervisorBoot(`b${i}`));
    await hv.delete(`t${i}`);
    await hv.delete(`b${i}`);
  }
  const ms = (xs: number[]): string => xs.map((x) => x.toFixed(0)).join(", ");
  console.log(`boot-to-entrypoint (TCG, ${runs} runs, median; same guest, tmpfs upper): bare qemu ${median(bare).toFixed(0)} ms, ` +
    `via Hypervisor ${median(viaHv).toFixed(0)} ms, ratio hypervisor/bare ${(median(viaHv) / median(bare)).toFixed(2)}`);
  console.log(`  via Hypervisor with a new 64 MiB ext4 root disk (mkfs + ext4 upper): ${median(viaHvDisk).toFixed(0)} ms, ratio ${(median(viaHvDisk) / median(bare)).toFixed(2)}`);
  console.log(`  bare: ${ms(bare)} ms; hypervisor: ${ms(viaHv)} ms; hypervisor+disk: ${ms(viaHvDisk)} ms; load average ${(await readFile("/proc/loadavg", "utf8")).split(" ")[0]}`);

  const ids = Array.from({ length: vmCount }, (_, i) => `r${i}`);
  await Promise.all(ids.map((id) => hypervisorBoot(id, 128)));
  await new Promise((r) => setTimeout(r, 1000));
  const mem = await Promise.all(ids.map(async (id) => memKiB((await hv.status(id)).pid!)));
  const avg = (k: "rss" | "pss"): number => mem.reduce((a, m) => a + m[k], 0) / mem.length / 1024;
  const avail = Number(/MemAvailable:\s+(\d+)/.exec(await readFile("/proc/meminfo", "utf8"))?.[1] ?? 0) / 1024;
  console.log(`per idle busybox VM (-m 128, ${vmCount} VMs running): RSS ${avg("rss").toFixed(0)} MiB, PSS ${avg("pss").toFixed(0)} MiB; ` +
    `~${Math.floor(avail / avg("pss"))} more such VMs fit in MemAvailable ${avail.toFixed(0)} MiB (memory-bound; CPU: 2 cores under TCG)`);
} finally {
  for (const id of await hv.list()) await hv.delete(id).catch(() => undefined);
  await rm(work, { recursive: true, force: true });
}
