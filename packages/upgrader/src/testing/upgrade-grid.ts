/**
 * A local grid whose node hosts each run zosd under the upgrader (tests and bench/upgrade; root,
 * QEMU, FUSE: run under the VM lock). On it: one private network over nodes A and B, one VM on B
 * (public IPv4, an HTTP server whose index is the guest's boot id, a CGI with its uptime, a TCP line
 * echo server on port 7000) and a name gateway `web.<domain>` on A to the VM over the private
 * network. The test grid's two placeholder nodes (never run) are deleted so the rollout plan is the
 * node hosts. `stop()` stops the upgraders (zosd stops, VMs stay), then the grid fixture removes
 * everything.
 *
 * @example
 * ```ts
 * const ug = await startUpgradeGrid({ nodes: 3, octet: 231, root: ROOT, releaseKeys: [key.address] });
 * ug.records(0);          // node A's upgrades.jsonl
 * await ug.stop();
 * ```
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { deploymentHashHex, parseDeployment, planNetwork, signDeployment, type Deployment } from "@zgrid/types";
import { startGridFixture, type GridFixture, type GridNode, type Twin } from "@zgrid/zos/testing";
import { loadState, readUpgradeRecords, type UpgradeRecord, type UpgraderState } from "../upgrader-state.ts";
import { qemuPids } from "../runner/vm-pids.ts";

const UPGRADER_BIN = fileURLToPath(new URL("../../bin/upgrader.ts", import.meta.url));
const MiB = 1024 ** 2;
export const GATEWAY_DOMAIN = "gw1.test";
export const ECHO_PORT = 7000;

// index.html = the boot id (changes when the guest restarts); cgi-bin/uptime = seconds since boot
const ENTRYPOINT = `#!/bin/sh
mkdir -p /www/cgi-bin
cat /proc/sys/kernel/random/boot_id > /www/index.html
printf '#!/bin/sh\\necho "Content-Type: text/plain"\\necho\\ncut -d" " -f1 /proc/uptime\\n' > /www/cgi-bin/uptime
chmod +x /www/cgi-bin/uptime
httpd -p 80 -h /www
nc -ll -p ${ECHO_PORT} -e /bin/cat &
echo "ZGRID-BOOT $(cat /proc/sys/kernel/random/boot_id)"
echo ZGRID-READY
exec sleep 1000000
`;

export interface UpgradeGridOptions {
  nodes: number;
  /** Underlay subnet 10.<octet>.0.0/16 (distinct per concurrently running test). */
  octet: number;
  /** The checkout the nodes run as the initial release. */
  root: string;
  releaseKeys: string[];
  initialVersion?: string;
  pollMs?: number;
  health?: { windowMs: number; settleMs: number };
}

export interface UpgradeGrid {
  g: GridFixture;
  nodes: GridNode[];
  stateDirs: string[];
  /** The VM's node (B), its QEMU pid, public IPv4 and boot id. */
  vm: { node: GridNode; qemuPid: number; publicIp: string; bootId: string; contractId: number };
  /** The gateway node (A) and the gateway's host name. */
  gateway: { node: GridNode; hostName: string };
  records(i: number): UpgradeRecord[];
  state(i: number): UpgraderState;
  vmPids(node: GridNode): number[];
  stop(): Promise<void>;
}

export async function startUpgradeGrid(o: UpgradeGridOptions): Promise<UpgradeGrid> {
  const stateDirs: string[] = [];
  let base = "";
  const g = await startGridFixture({
    nodes: o.nodes, entrypoint: ENTRYPOINT, domain: GATEWAY_DOMAIN, subnetOctet: o.octet,
    launch: ({ index, configPath, dataDir }) => {
      base = join(dataDir, "..");
      const stateDir = join(base, `upgrader${index + 1}`);
      mkdirSync(stateDir, { recursive: true });
      stateDirs[index] = stateDir;
      const cfg = join(base, `upgrader${index + 1}.json`);
      writeFileSync(cfg, JSON.stringify({
        stateDir, zosConfig: configPath, releaseKeys: o.releaseKeys, initial: { version: o.initialVersion ?? "1.0.0", dir: o.root },
        pollMs: o.pollMs ?? 1_000, health: o.health ?? { windowMs: 120_000, settleMs: 2_000 },
      }));
      return [process.execPath, ["--disable-warning=ExperimentalWarning", UPGRADER_BIN, "--config", cfg]];
    },
  });
  const stopUpgraders = async () => {
    // SIGTERM: each upgrader stops its zosd (VMs stay) and exits; the fixture then removes the rest
    await Promise.all(g.nodes.map((n) => new Promise<void>((resolve) => {
      const p = n.process;
      if (!p || p.exitCode !== null || p.signalCode !== null) return resolve();
      const t = setTimeout(() => p.kill("SIGKILL"), 30_000);
      p.once("exit", () => { clearTimeout(t); resolve(); });
      p.kill("SIGTERM");
    })));
  };
  try {
    g.trackNetwork(g.user.id, "net");
    // the placeholder nodes of the test grid never run: off the chain, the plan is the node hosts
    await g.grid.node1.deleteNode(g.grid.nodeId1);
    await g.grid.node2.deleteNode(g.grid.nodeId2);
    const [a, b] = g.nodes as [GridNode, GridNode];
    const vm = await deployVmAndGateway(g, a, b);
    const vmPids = (n: GridNode) => qemuPids((JSON.parse(readFileSync(n.configPath, "utf8")) as { vmStateDir: string }).vmStateDir);
    const pids = vmPids(b);
    if (pids.length !== 1) throw new Error(`expected one QEMU process on node B, found ${pids.length}`);
    return {
      g, nodes: g.nodes, stateDirs,
      vm: { ...vm, node: b, qemuPid: pids[0]! },
      gateway: { node: a, hostName: `web.${GATEWAY_DOMAIN}` },
      records: (i) => readUpgradeRecords(stateDirs[i]!),
      state: (i) => loadState(stateDirs[i]!),
      vmPids,
      stop: async () => {
        await stopUpgraders();
        await g.stop();
      },
    };
  } catch (e) {
    await stopUpgraders();
    await g.stop();
    throw e;
  }
}

function deploymentJson(twin: number, workloads: Array<Record<string, unknown>>, metadata: string) {
  return {
    version: 0, twin_id: twin, contract_id: 0, metadata, description: "",
    signature_requirement: { requests: [{ twin_id: twin, required: true, weight: 1 }], weight_required: 1 },
    workloads: workloads.map((w) => ({ version: 0, ...w })),
  };
}

async function deploy(owner: Twin, node: GridNode, json: ReturnType<typeof deploymentJson>, publicIps = 0): Promise<number> {
  const d = parseDeployment(json, { externalNetworks: ["net"] });
  const contractId = await owner.client.createNodeContract({ nodeId: node.nodeId, deploymentHash: deploymentHashHex(d), publicIps });
  await owner.bus.request(node.twinId, "zos.deployment.deploy", signDeployment({ ...d, contract_id: contractId }, owner.id, owner.key), { timeout: 30_000 });
  return contractId;
}

async function settled(g: GridFixture, node: GridNode, contractId: number): Promise<Deployment> {
  const end = Date.now() + 180_000;
  let d: Deployment | undefined;
  while (Date.now() < end) {
    d = await g.user.bus.request<Deployment>(node.twinId, "zos.deployment.get", { contract_id: contractId }, { timeout: 20_000 }).catch(() => undefined);
    if (d && d.workloads.every((w) => w.result && w.result.state !== "init")) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  for (const w of d?.workloads ?? []) if (w.result?.state !== "ok") throw new Error(`workload ${w.name} on node ${node.nodeId}: ${w.result?.state} ${w.result?.message ?? ""}`);
  if (!d) throw new Error(`deployment ${contractId} on node ${node.nodeId} never answered`);
  return d;
}

async function deployVmAndGateway(g: GridFixture, a: GridNode, b: GridNode): Promise<{ publicIp: string; bootId: string; contractId: number }> {
  await g.user.client.createNameContract("web");
  const plan = planNetwork({ ipRange: "10.33.0.0/16", nodes: [a, b].map((n) => ({ nodeId: n.nodeId, endpoint: n.host.address, listenPort: 51840 })) });
  const [pa, pb] = plan.nodes;
  const ipB = pb!.subnet.replace(/0\/24$/, "5");
  const cb = await deploy(g.user, b, deploymentJson(g.user.id, [
    { name: "net", type: "network", data: pb!.workload },
    { name: "pub", type: "ip", data: { v4: true } },
    { name: "vm", type: "zmachine", data: {
      flist: g.flistUrl, network: { interfaces: [{ network: "net", ip: ipB }], public_ip: "pub" }, size: 0,
      compute_capacity: { cpu: 1, memory: 256 * MiB }, mounts: [], entrypoint: "/start.sh", env: {},
    } },
  ], "upgrade-vm"), 1);
  const ca = await deploy(g.user, a, deploymentJson(g.user.id, [
    { name: "net", type: "network", data: pa!.workload },
    { name: "web", type: "gateway-name-proxy", data: { name: "web", backends: [`http://${ipB}:80`], network: "net" } },
  ], "upgrade-gw"));
  const db = await settled(g, b, cb);
  await settled(g, a, ca);
  const pub = db.workloads.find((w) => w.name === "pub")?.result?.data as { ip: string };
  const consolePath = (db.workloads.find((w) => w.name === "vm")?.result?.data as { console: string }).console;
  const end = Date.now() + 120_000;
  while (!readConsole(consolePath).includes("ZGRID-READY")) {
    if (Date.now() > end) throw new Error(`the VM did not start its servers: ${readConsole(consolePath).slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  const bootId = /ZGRID-BOOT (\S+)/.exec(readConsole(consolePath))?.[1] ?? "";
  if (!bootId) throw new Error("the VM printed no boot id");
  return { publicIp: pub.ip.split("/")[0]!, bootId, contractId: cb };
}

function readConsole(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}
