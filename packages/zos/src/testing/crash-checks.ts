/**
 * What the crash campaign checks on a node host after each kill and restart (not public API):
 * a VM shown `ok` has a live QEMU and answers over its private network; a paused one is paused;
 * a deleted deployment left nothing (QEMU or mount processes, mounts in ANY mount namespace,
 * links, network namespaces, wireguard-go, disk files, VM state); a zmount's marker file is intact
 * (read from the disk image itself with debugfs, same inode as first seen).
 *
 * @example
 * ```ts
 * const leaks = leftovers(node, { wid, disks: [path], net: { namespace, bridge, vethHost, id } });
 * const ok = await answers(namespace, "10.88.1.5", "MARK-1");
 * ```
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { join } from "node:path";
import { tapNameFor } from "../hypervisor/tap.ts";
import { linkExists } from "../hypervisor/tap.ts";
import { nodePaths, type NetworkNames } from "../primitives/node-paths.ts";

export interface Footprint {
  wid: string;
  /** zmount disk images of the deployment. */
  disks: string[];
  net: NetworkNames;
}

/** Every mountinfo line of every mount namespace on the machine (one process read per namespace). */
export function allMountLines(): string[] {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const ns = readlinkSync(`/proc/${pid}/ns/mnt`);
      if (seen.has(ns)) continue;
      seen.add(ns);
      lines.push(...readFileSync(`/proc/${pid}/mountinfo`, "utf8").split("\n"));
    } catch {
      // gone meanwhile
    }
  }
  return lines;
}

/** Live (non-zombie) processes whose command line contains `marker`. */
export function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      if (/^[ZX]$/.test(stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3))) continue;
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").includes(marker) && Number(pid) !== process.pid) found.push(Number(pid));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** What a deleted deployment left behind on the node (empty when nothing). */
export function leftovers(node: { dataDir: string; vmStateDir: string }, f: Footprint): string[] {
  const paths = nodePaths(node.dataDir);
  const left: string[] = [];
  const mnt = paths.flistMount(f.wid);
  if (processesWith(join(node.vmStateDir, f.wid) + "/").length) left.push(`QEMU of ${f.wid}`);
  if (processesWith(`"mountpoint":"${mnt}`).length) left.push(`flist mount process of ${f.wid}`);
  if (allMountLines().some((l) => l.split(" ")[4] === mnt)) left.push(`mount ${mnt}`);
  if (existsSync(mnt)) left.push(`mountpoint dir ${mnt}`);
  if (existsSync(paths.flistShare(f.wid))) left.push(`flist share dir ${paths.flistShare(f.wid)}`);
  if (existsSync(join(node.vmStateDir, f.wid))) left.push(`VM state ${f.wid}`);
  if (existsSync(paths.vmDir(f.wid))) left.push(`VM dir ${paths.vmDir(f.wid)}`);
  for (const d of f.disks) if (existsSync(d)) left.push(`disk ${d}`);
  for (const link of [f.net.bridge, f.net.vethHost, tapNameFor(f.wid), `w-${f.net.id}`]) if (linkExists(link)) left.push(`link ${link}`);
  if (existsSync(`/run/netns/${f.net.namespace}`)) left.push(`namespace ${f.net.namespace}`);
  if (processesWith(`wireguard-go w-${f.net.id}`).length) left.push(`wireguard-go w-${f.net.id}`);
  return left;
}

/** Whether the VM at `ip` serves `/marker` = `mark` over HTTP from inside its network namespace. */
export function answers(namespace: string, ip: string, mark: string): boolean {
  const r = spawnSync("ip", ["netns", "exec", namespace, "curl", "-s", "-m", "4", `http://${ip}/marker`], { encoding: "utf8", timeout: 8_000 });
  return r.status === 0 && r.stdout.trim() === mark;
}

/** Bytes of `/probe` the VM at `ip` serves (its flist's /probe.bin), -1 when it does not answer 200. */
export function probeBytes(namespace: string, ip: string, path = "/probe"): number {
  const r = spawnSync("ip", ["netns", "exec", namespace, "curl", "-s", "-m", "20", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", `http://${ip}${path}`], { encoding: "utf8", timeout: 30_000 });
  const [code, size] = r.stdout.trim().split(" ");
  return r.status === 0 && code === "200" ? Number(size) : -1;
}

/** The marker file's content inside an ext4 disk image (debugfs, read-only) and the image's inode. */
export function diskMarker(disk: string): { inode: number; marker: string } | undefined {
  if (!existsSync(disk)) return undefined;
  const r = spawnSync("debugfs", ["-R", "cat /marker", disk], { encoding: "utf8", timeout: 10_000 });
  return { inode: statSync(disk).ino, marker: r.stdout.trim() };
}
