/**
 * A one-node grid for end-to-end tests: dev chain (farm, user and stranger twins), a hub with a
 * signed busybox flist, and a real `zosd` process for the node. Everything it starts is stopped by
 * `stop()`, which also removes VMs, mounts, interfaces and files a failing test may leave.
 *
 * @example
 * ```ts
 * const grid = await startNodeFixture({ entrypoint: "#!/bin/sh\necho hi\nexec sleep 1000\n" });
 * const userBus = grid.user.bus; // request(grid.node.twinId, "zos.deployment.get", …)
 * await grid.stop();
 * ```
 */
import { spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Bus } from "@zgrid/bus";
import type { GridClient } from "@zgrid/chain";
import { startTestGrid, type TestGrid } from "@zgrid/chain/testing";
import { editFlist, startHub, type Hub } from "@zgrid/flist";
import type { TwinKey } from "@zgrid/types";
import { openDeploymentStore } from "../engine/deployment-store.ts";
import { Hypervisor } from "../hypervisor/hypervisor.ts";
import { linkExists } from "../hypervisor/tap.ts";
import { NDMZ_BRIDGE, egressLinks } from "../primitives/network/egress.ts";
import { networkNames } from "../primitives/node-paths.ts";
import { buildBusyboxRoot } from "../hypervisor/test-fixtures.ts";
import type { ZosConfigInput } from "../daemon/zos-config.ts";
import { fundNode, nodeAccount, publishFlist, startZosd, testTwin, zosdCommand } from "./zosd-process.ts";

export interface Twin { id: number; key: TwinKey; client: GridClient; bus: Bus }

export interface NodeFixture {
  grid: TestGrid;
  hub: Hub;
  /** Hub URL of the signed busybox flist, and of an unsigned one. */
  flistUrl: string;
  /** A signed flist with no entrypoint, no /sbin/init and no /bin/sh. */
  noEntrypointFlistUrl: string;
  unsignedFlistUrl: string;
  /** Directory store holding the flist blocks as the hub got them (to tamper with). */
  hubBlocksDir: string;
  user: Twin;
  stranger: Twin;
  node: { twinId: number; nodeId: number; account: string; dataDir: string; vmStateDir: string; configPath: string };
  hypervisor: Hypervisor;
  startNode(): Promise<void>;
  /** Pid of the running zosd, if any. */
  nodePid(): number | undefined;
  /** SIGKILLs the daemon (VMs and mounts stay). */
  killNode(): void;
  stop(): Promise<void>;
}

export async function startNodeFixture(o: { entrypoint: string; requireSignature?: boolean; egressAllow?: string[]; zosdNodeFlags?: readonly string[] }): Promise<NodeFixture> {
  const tmp = mkdtempSync(join(tmpdir(), "zos-e2e-"));
  const vmStateDir = mkdtempSync("/tmp/zv-");
  const cleanups: Array<() => Promise<void> | void> = [() => rmSync(tmp, { recursive: true, force: true }), () => rmSync(vmStateDir, { recursive: true, force: true })];
  let daemon: ChildProcess | undefined;
  const hypervisor = new Hypervisor({ stateDir: vmStateDir });
  // The node runs in this machine's own namespace: remember what it shares with the host (the
  // egress bridge and its masquerade rule) so stop() removes them only when the node made them.
  const hadNdmz = linkExists(NDMZ_BRIDGE);
  const stop = async () => {
    daemon?.kill("SIGKILL");
    for (const id of await hypervisor.list()) await hypervisor.delete(id).catch(() => undefined);
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
    if (!hadNdmz && linkExists(NDMZ_BRIDGE)) {
      spawnSync("ip", ["link", "del", NDMZ_BRIDGE]);
      spawnSync("iptables", ["-t", "nat", "-D", "POSTROUTING", "-s", "100.127.0.0/16", "!", "-o", NDMZ_BRIDGE, "-j", "MASQUERADE"]);
    }
  };
  try {
    const grid = await startTestGrid({ twins: 5 });
    cleanups.push(() => grid.stop());
    const hub = await startHub({ dataDir: join(tmp, "hub"), port: 0 });
    cleanups.push(() => hub.close());
    const onStop = (f: () => Promise<void>) => void cleanups.push(f);
    const user = await testTwin(grid, 3, onStop);
    const stranger = await testTwin(grid, 4, onStop);

    const root = join(tmp, "root");
    await buildBusyboxRoot(root, o.entrypoint);
    const busybox = await publishFlist({ root, tmp, name: "busybox", hub, key: user.key });
    const bare = join(tmp, "bare-root");
    mkdirSync(join(bare, "etc"), { recursive: true });
    writeFileSync(join(bare, "etc", "hostname"), "bare\n");
    const noEntry = await publishFlist({ root: bare, tmp, name: "noentry", hub, key: user.key });
    // The same busybox image unsigned, placed on the hub by hand (the hub only takes signed uploads).
    const unsigned = join(tmp, "hub", "flists", user.key.address, "busybox-unsigned.fl");
    mkdirSync(join(tmp, "hub", "flists", user.key.address), { recursive: true });
    copyFileSync(busybox.path, unsigned);
    editFlist(unsigned, { routes: [{ start: 0, end: 255, url: `${hub.url}/blocks` }], removeTags: ["zgrid.signer", "zgrid.signature", "zgrid.root"] });
    const unsignedUrl = `${hub.url}/flists/${user.key.address}/busybox-unsigned.fl`;

    const dataDir = join(tmp, "node");
    const configPath = join(tmp, "zos.json");
    const config: ZosConfigInput = {
      dataDir, vmStateDir, farmId: grid.farmId,
      chain: { rpcUrl: grid.chain.rpcUrl, addresses: grid.chain.addresses },
      flist: { requireSignature: o.requireSignature ?? true, stores: [`${hub.url}/blocks`], cacheBytes: 256 * 1024 * 1024 },
      intervals: { reconcileMs: 2_000, monitorMs: 1_000, uptimeMs: 60_000 },
      hypervisor: { accel: "tcg" },
      ...(o.egressAllow ? { egress: { allow: o.egressAllow } } : {}),
    };
    writeFileSync(configPath, JSON.stringify(config));
    const [cmd, args] = zosdCommand(configPath, o.zosdNodeFlags);
    const account = nodeAccount(cmd, args);
    await fundNode(grid, account);
    const node = { twinId: 0, nodeId: 0, account, dataDir, vmStateDir, configPath };
    cleanups.push(() => cleanupNodeLeftovers(dataDir, node));

    const fixture: NodeFixture = {
      grid, hub, flistUrl: busybox.url, unsignedFlistUrl: unsignedUrl, noEntrypointFlistUrl: noEntry.url, hubBlocksDir: join(tmp, "hub"),
      user, stranger, node, hypervisor, stop,
      async startNode() {
        const started = await startZosd(cmd, args);
        daemon = started.process;
        node.twinId = started.twinId;
        node.nodeId = started.nodeId;
      },
      nodePid: () => daemon?.pid,
      killNode() {
        daemon?.kill("SIGKILL");
        daemon = undefined;
      },
    };
    return fixture;
  } catch (e) {
    await stop();
    throw e;
  }
}

/**
 * Removes what a failed test may leave: every network the node's store knows (namespace, bridge,
 * veths, wireguard-go, egress link), the gateway's HAProxy, FUSE mounts and mount processes.
 */
function cleanupNodeLeftovers(dataDir: string, node: { nodeId: number; account: string }): void {
  if (existsSync(join(dataDir, "zos.db"))) {
    const store = openDeploymentStore(join(dataDir, "zos.db"));
    const networks = store.list().flatMap((d) => d.workloads.filter((w) => w.type === "network").map((w) => networkNames(node.nodeId, d.twin_id, w.name, node.account)));
    store.close();
    for (const n of networks) {
      for (const pid of spawnSync("pgrep", ["-f", `^wireguard-go w-${n.id}$`], { encoding: "utf8" }).stdout.split("\n").filter(Boolean)) spawnSync("kill", ["-9", pid]);
      rmSync(`/var/run/wireguard/w-${n.id}.sock`, { force: true }); // a killed wireguard-go leaves its control socket
      if (existsSync(`/run/netns/${n.namespace}`)) spawnSync("ip", ["netns", "del", n.namespace]);
      for (const link of [n.bridge, n.vethHost, egressLinks(n).node]) if (linkExists(link)) spawnSync("ip", ["link", "del", link]);
    }
  }
  const haproxyPid = join(dataDir, "gateway", "haproxy.pid");
  if (existsSync(haproxyPid)) for (const pid of readFileSync(haproxyPid, "utf8").split(/\s+/).filter(Boolean)) spawnSync("kill", ["-9", pid]);
  const mnt = join(dataDir, "mnt");
  for (const e of (() => { try { return readdirSync(mnt); } catch { return []; } })()) {
    // mnt/<wid>/root (a VM's share dir holding its mount) and mnt/<wid> (the layout before)
    if (!e.endsWith(".json") && !e.endsWith(".log")) for (const p of [join(mnt, e, "root"), join(mnt, e)]) spawnSync("fusermount", ["-uz", p], { stdio: "ignore" });
  }
  for (const line of spawnSync("pgrep", ["-af", "mount-worker.ts"], { encoding: "utf8" }).stdout.split("\n")) {
    if (line.includes(dataDir)) spawnSync("kill", ["-9", line.split(" ")[0]!]);
  }
}

export function randomWgKey(): string {
  return randomBytes(32).toString("base64");
}
