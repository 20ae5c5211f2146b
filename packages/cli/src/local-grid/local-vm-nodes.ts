/**
 * `zgrid up --vm-nodes N`: the local grid's stateless nodes. Each is a QEMU machine (TCG, 3 GiB, a
 * disk kept in `<dataDir>/vm-nodes/`) on a tap of the underlay bridge that network-boots this
 * checkout's node release from the local boot server (@zgrid/os/vm-nodes: release built, signed
 * with the grid admin's key and pushed to the local hub; dnsmasq answers DHCP on the underlay in
 * 10.<o>.1.10-250), asks for funds (the admin sends them), runs zosd under the upgrader and
 * registers in the local farm. zmachines on such a node are nested emulation: slow, but real.
 * Which machines run is written to `<dataDir>/vm-nodes/machines.json` at power-on, so `zgrid down`
 * powers them off even when the grid host could not.
 *
 * @example
 * ```ts
 * const vms = await startLocalVmNodes({ dataDir, count: 1, bridge, hostAddress: "10.201.0.1", prefix: "10.201", rpcUrl, addresses, farmId, hubUrl, adminKey, fund });
 * vms.nodes; // [{ index: 0, nodeId: 3, pid: 4242, console: "…/node-0.console.log", … }]
 * stopVmNodeMachines(dataDir); // after a crash of the host: QEMU killed, taps removed
 * ```
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { LocalGridInfo } from "@zgrid/client";
import { twinKeyFromPrivateKey } from "@zgrid/types";

/** Each VM node is a 3 GiB TCG machine: more than a few do not fit next to the rest of the grid. */
export const MAX_VM_NODES = 4;
const ROOT = fileURLToPath(new URL("../../../..", import.meta.url));

type Address = `0x${string}`;
type VmNodeInfo = NonNullable<LocalGridInfo["vmNodes"]>[number];
interface Machine { pid: number; disk: string; tap: string }

const machinesFile = (dataDir: string) => join(dataDir, "vm-nodes", "machines.json");

export async function startLocalVmNodes(o: {
  dataDir: string; count: number; bridge: string; hostAddress: string; prefix: string;
  rpcUrl: string; addresses: { token: Address; registry: Address; contracts: Address; governance: Address }; farmId: number; hubUrl: string;
  adminKey: Address; fund(account: Address): Promise<void>; onProgress?: (m: string) => void;
}): Promise<{ nodes: VmNodeInfo[]; stop(): Promise<void> }> {
  const { startVmNodes } = await import("@zgrid/os/vm-nodes");
  const workDir = join(o.dataDir, "vm-nodes");
  mkdirSync(workDir, { recursive: true });
  const vms = await startVmNodes({
    root: ROOT, workDir, bridge: o.bridge, hostAddress: o.hostAddress, dhcpRange: [`${o.prefix}.1.10`, `${o.prefix}.1.250`], netmask: "255.255.0.0",
    rpcUrl: o.rpcUrl, addresses: o.addresses, farmId: o.farmId, hubUrl: o.hubUrl, releaseKey: twinKeyFromPrivateKey(o.adminKey), count: o.count,
    fund: o.fund, ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  });
  const stop = async () => {
    await vms.stop();
    rmSync(machinesFile(o.dataDir), { force: true });
  };
  writeFileSync(machinesFile(o.dataDir), JSON.stringify(vms.nodes.map((n): Machine => ({ pid: n.pid, disk: n.disk, tap: n.tap }))));
  try {
    const nodes = await vms.registered;
    return { nodes: nodes.map((n) => ({ index: n.index, nodeId: n.nodeId!, account: n.account ?? "", pid: n.pid, console: n.console, disk: n.disk, tap: n.tap })), stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Powers off the VM node machines `up` recorded (a QEMU whose command line names its disk) and removes their taps. */
export function stopVmNodeMachines(dataDir: string): number[] {
  const file = machinesFile(dataDir);
  if (!existsSync(file)) return [];
  let machines: Machine[] = [];
  try {
    machines = (JSON.parse(readFileSync(file, "utf8")) as Machine[]).filter((m) => Number.isInteger(m.pid) && m.pid > 1 && typeof m.disk === "string" && /^[A-Za-z0-9_.-]{1,15}$/.test(m.tap));
  } catch {
    machines = [];
  }
  const stopped: number[] = [];
  for (const m of machines) {
    let cmdline = "";
    try {
      cmdline = readFileSync(`/proc/${m.pid}/cmdline`, "utf8");
    } catch {
      cmdline = "";
    }
    // only that machine: a reused pid is some other process
    if (cmdline.includes("qemu-system") && cmdline.includes(m.disk)) {
      process.kill(m.pid, "SIGKILL");
      stopped.push(m.pid);
    }
    spawnSync("ip", ["link", "del", m.tap], { stdio: "ignore" });
  }
  rmSync(file, { force: true });
  return stopped;
}
