/**
 * The crash campaign (issue 13; not public API): on a grid fixture (zosd in a node host, real VMs)
 * it runs deploy, update, grace pause, resume, delete and cancel-while-deploying, and SIGKILLs the
 * zosd at a seeded random point of each (sometimes twice within a second), restarting it with the
 * same command the local grid uses. After every restart it waits for the node to settle and
 * checks (crash-checks.ts): VMs shown ok answer over their network with a live QEMU, paused ones
 * are paused, deleted ones left nothing, zmount markers intact. It also kills a flist mount worker,
 * a wireguard-go and a QEMU and checks each comes back on its own. Returns the figures.
 *
 * @example
 * ```ts
 * const figures = await runCrashCampaign(grid, { seed: 42, kills: 20, log: console.log });
 * figures; // { seed, kills, leaks: [], vmsLost: [], dataLost: [], ... }
 * ```
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { deploymentHashHex, parseDeployment, signDeployment, type Deployment } from "@zgrid/types";
import { networkNames, nodePaths } from "../primitives/node-paths.ts";
import { wireguardAlive } from "../primitives/network/wireguard-link.ts";
import { FLIST_PROBE_BYTES, type GridFixture, type GridNode } from "../underlay/grid-fixture.ts";
import { seededRandom } from "./seeded-random.ts";
import { answers, diskMarker, leftovers, probeBytes, processesWith, type Footprint } from "./crash-checks.ts";

const MiB = 1024 ** 2;

/** What the campaign's VMs run: keep a marker on the zmount (first boot only), serve it over HTTP. */
export const CAMPAIGN_ENTRYPOINT = `#!/bin/sh
[ -f /data/marker ] || { echo "$MARK" > /data/marker; sync; }
mkdir -p /www && cp /data/marker /www/marker
ln -sf /probe.bin /www/probe; ln -sf /bin/busybox /www/probe-pre
httpd -p 80 -h /www
echo "ZGRID-READY $MARK"
exec sleep 2147483647
`;

export interface CampaignOptions {
  seed: number;
  /** Stop after at least this many zosd kills. */
  kills: number;
  log: (line: string) => void;
  /** How long to wait for the node to settle after a restart (default 180 s). */
  settleMs?: number;
}

export interface CampaignFigures {
  seed: number;
  kills: number;
  operations: string[];
  leaks: string[];
  vmsLost: string[];
  dataLost: string[];
  /** Platform parts killed on purpose and whether each came back. */
  parts: Record<string, boolean>;
  durationMs: number;
}

interface Tracked {
  k: number;
  d: Deployment;
  mark: string;
  expect: "ok" | "paused" | "deleted";
  footprint: Footprint;
  inode?: number;
}

export { seededRandom } from "./seeded-random.ts";

export async function runCrashCampaign(g: GridFixture, o: CampaignOptions): Promise<CampaignFigures> {
  const started = Date.now();
  const rand = seededRandom(o.seed);
  const node = g.nodes[0]!;
  const vmStateDir = node.hypervisor.stateDir;
  const fig: CampaignFigures = { seed: o.seed, kills: 0, operations: [], leaks: [], vmsLost: [], dataLost: [], parts: {}, durationMs: 0 };
  const tracked: Tracked[] = [];
  const get = (c: number) => g.user.bus.request<Deployment>(node.twinId, "zos.deployment.get", { contract_id: c }, { timeout: 20_000 });
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
  /** Sends until the node took it: the daemon may be killed under the request (then it is sent again). */
  const send = async (command: string, d: Deployment) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await g.user.bus.request(node.twinId, command, d, { timeout: 15_000 });
        return;
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        if (/already deployed|version/i.test(message)) return; // the earlier attempt was accepted
        if (attempt >= 30) throw e;
        await pause(1_000);
      }
    }
  };

  /** SIGKILL zosd after a random delay (0–maxMs), sometimes twice within a second; restart it. */
  const crash = async (what: string, maxMs = 2_500) => {
    await pause(Math.floor(rand() * maxMs));
    node.kill();
    fig.kills++;
    if (fig.kills === 1 || rand() < 0.2) {
      // twice within a second (always the first time): the daemon started again is killed while it starts up (adopting)
      const first = Date.now();
      const restart = node.start().catch(() => undefined);
      await pause(Math.floor(rand() * 900));
      node.kill();
      fig.kills++;
      await restart;
      o.log(`  kill x2 within ${Date.now() - first} ms during ${what}`);
    }
    await node.start();
    o.log(`  kill #${fig.kills} during ${what}; zosd restarted (pid ${node.process?.pid})`);
  };

  const deployment = (k: number, version: number, extra: boolean) => {
    const mark = `MARK-${o.seed}-${k}`;
    return {
      version, twin_id: g.user.id, contract_id: 0, metadata: `crash ${k}`, description: "",
      signature_requirement: { requests: [{ twin_id: g.user.id, required: true, weight: 1 }], weight_required: 1 },
      workloads: [
        { version: 0, name: `cn${k}`, type: "network", data: { ip_range: "10.88.0.0/16", subnet: `10.88.${k % 250}.0/24`, wireguard_private_key: "YHt3E2zDR7+iHn/Am6eIJgQEIufNaCqDkhnLSfiNnEw=", wireguard_listen_port: 52000 + k, peers: [] } },
        { version: 0, name: "data", type: "zmount", data: { size: 64 * MiB } },
        ...(extra ? [{ version, name: "extra", type: "zmount", data: { size: 32 * MiB } }] : []),
        { version: 0, name: "vm", type: "zmachine", data: {
          flist: g.flistUrl, network: { interfaces: [{ network: `cn${k}`, ip: `10.88.${k % 250}.5` }] }, size: 0,
          compute_capacity: { cpu: 1, memory: 256 * MiB }, mounts: [{ name: "data", mountpoint: "/data" }], entrypoint: "/start.sh", env: { MARK: mark },
        } },
      ],
    };
  };
  const sign = (json: ReturnType<typeof deployment>, contractId: number) =>
    signDeployment({ ...parseDeployment(json), contract_id: contractId }, g.user.id, g.user.key);

  const deploy = async (k: number, cancelWhileDeploying = false) => {
    const json = deployment(k, 0, false);
    const hash = deploymentHashHex(parseDeployment(json));
    const contractId = await g.user.client.createNodeContract({ nodeId: node.nodeId, deploymentHash: hash });
    const d = sign(json, contractId);
    const wid = `${g.user.id}-${contractId}-vm`;
    const net = networkNames(node.nodeId, g.user.id, `cn${k}`, node.account);
    g.trackNetwork(g.user.id, `cn${k}`);
    const t: Tracked = { k, d, mark: `MARK-${o.seed}-${k}`, expect: "ok", footprint: { wid, disks: [nodePaths(node.dataDir).disk(`${g.user.id}-${contractId}-data`)], net } };
    tracked.push(t);
    await send("zos.deployment.deploy", d);
    if (cancelWhileDeploying) {
      await pause(Math.floor(rand() * 3_000));
      await g.user.client.cancelContract(contractId);
      t.expect = "deleted";
    }
    return t;
  };

  const report = (list: string[], problem: string) => {
    list.push(problem);
    o.log(`  PROBLEM ${problem}`);
  };
  const check = async (label: string) => {
    const settleMs = o.settleMs ?? 180_000;
    for (const t of tracked) {
      const end = Date.now() + settleMs;
      let last = "";
      let good = false;
      while (Date.now() < end && !good) {
        const d = await get(t.d.contract_id).catch((e: unknown) => { last = String(e); return undefined; });
        const states = d?.workloads.map((w) => w.result?.state) ?? [];
        last = JSON.stringify(d?.workloads.map((w) => [w.name, w.result?.state, w.result?.message]) ?? last);
        if (t.expect === "deleted") good = states.length > 0 && states.every((s) => s === "deleted");
        else if (t.expect === "paused") {
          good = states.includes("paused") && (await node.hypervisor.status(t.footprint.wid).catch(() => undefined))?.state === "paused";
        } else {
          const vm = (await node.hypervisor.status(t.footprint.wid).catch(() => undefined));
          good = states.every((s) => s === "ok") && vm?.state === "running" && !!vm.pid && answers(t.footprint.net.namespace, `10.88.${t.k % 250}.5`, t.mark);
        }
        if (!good) await pause(1_000);
      }
      if (!good) {
        report(t.expect === "deleted" ? fig.leaks : fig.vmsLost, `${label}: contract ${t.d.contract_id} not ${t.expect} after ${settleMs / 1000} s: ${last.slice(0, 400)}`);
        continue;
      }
      if (t.expect === "deleted") {
        // the node says deleted: give its last steps a moment, then nothing may be left
        let left = leftovers({ dataDir: node.dataDir, vmStateDir }, t.footprint);
        for (let i = 0; i < 10 && left.length; i++) {
          await pause(500);
          left = leftovers({ dataDir: node.dataDir, vmStateDir }, t.footprint);
        }
        for (const l of left) report(fig.leaks, `${label}: contract ${t.d.contract_id}: ${l}`);
      } else {
        const m = diskMarker(t.footprint.disks[0]!);
        if (!m || m.marker !== t.mark || (t.inode !== undefined && t.inode !== m.inode)) {
          report(fig.dataLost, `${label}: contract ${t.d.contract_id}: zmount marker ${JSON.stringify(m)} (expected ${t.mark}, inode ${t.inode})`);
        }
        t.inode ??= m?.inode;
      }
    }
    tracked.splice(0, tracked.length, ...tracked.filter((t) => t.expect !== "deleted"));
  };

  const op = async (name: string, run: () => Promise<unknown>, maxKillMs?: number) => {
    o.log(`${name}`);
    fig.operations.push(name);
    const work = run();
    work.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
    await crash(name, maxKillMs);
    await work;
    await check(name);
  };

  let k = 1;
  let partsDone = false;
  while (fig.kills < o.kills) {
    const a = k++;
    let t!: Tracked;
    await op(`deploy ${a}`, async () => (t = await deploy(a)), 4_000);
    if (!partsDone) {
      await killParts(g, node, t, fig, o.log);
      await check("platform parts");
      partsDone = true;
    }
    await op(`update ${a}`, async () => {
      const next = deployment(a, 1, true);
      const hash = deploymentHashHex(sign(next, t.d.contract_id));
      await g.user.client.updateNodeContract(t.d.contract_id, { deploymentHash: hash });
      t.d = sign(next, t.d.contract_id);
      await send("zos.deployment.update", t.d);
      t.footprint.disks.push(nodePaths(node.dataDir).disk(`${g.user.id}-${t.d.contract_id}-extra`));
    });
    const balance = await g.user.client.balanceOf();
    await op(`grace pause ${a}`, async () => {
      await g.user.client.transfer(g.stranger.key.address, balance);
      await g.grid.chain.advanceTime(3600);
      for (const x of tracked) if (x.expect === "ok") await g.grid.admin.settle(x.d.contract_id);
      for (const x of tracked) if (x.expect === "ok") x.expect = "paused";
    });
    await op(`resume ${a}`, async () => {
      await g.stranger.client.transfer(g.user.key.address, balance);
      for (const x of tracked) if (x.expect === "paused") await g.grid.admin.settle(x.d.contract_id);
      for (const x of tracked) if (x.expect === "paused") x.expect = "ok";
    });
    const b = k++;
    await op(`cancel while deploying ${b}`, () => deploy(b, true), 4_000);
    if (tracked.length > 1 || rand() < 0.5) {
      const victim = tracked[Math.floor(rand() * tracked.length)]!;
      await op(`delete ${victim.k}`, async () => {
        await g.user.client.cancelContract(victim.d.contract_id);
        victim.expect = "deleted";
      });
    }
  }
  for (const t of tracked) await g.user.client.cancelContract(t.d.contract_id).then(() => (t.expect = "deleted"), () => undefined);
  await check("final delete");
  fig.durationMs = Date.now() - started;
  return fig;
}

/** Kills a flist mount worker, the network's wireguard-go and the QEMU of `t`; each must come back. */
async function killParts(g: GridFixture, node: GridNode, t: Tracked, fig: CampaignFigures, log: (l: string) => void): Promise<void> {
  const mnt = nodePaths(node.dataDir).flistMount(t.footprint.wid);
  const waitUntil = async (ok: () => Promise<boolean> | boolean, ms = 120_000) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (await ok()) return true;
      await new Promise((r) => setTimeout(r, 1_000));
    }
    return false;
  };
  const ip = `10.88.${t.k % 250}.5`;
  const worker = (JSON.parse(readFileSync(`${mnt}.json`, "utf8")) as { pid: number }).pid;
  const qemuBefore = (await node.hypervisor.status(t.footprint.wid)).pid;
  log(`kill the flist mount worker (pid ${worker}) under QEMU ${qemuBefore}; a flist file over HTTP before: ${probeBytes(t.footprint.net.namespace, ip, "/probe-pre")} bytes`);
  process.kill(worker, "SIGKILL");
  // mounted again in place: the same QEMU (no reboot) serves /probe.bin, which no boot read, through the new mount
  let seen = "";
  fig.parts["mount worker"] = await waitUntil(async () => {
    const now = { worker: processesWith(`"mountpoint":"${mnt}`).some((p) => p !== worker), answers: answers(t.footprint.net.namespace, ip, t.mark),
      probe: probeBytes(t.footprint.net.namespace, ip), qemu: (await node.hypervisor.status(t.footprint.wid)).pid };
    seen = JSON.stringify(now);
    return now.worker && now.answers && now.probe === FLIST_PROBE_BYTES && now.qemu === qemuBefore;
  });
  if (!fig.parts["mount worker"]) {
    const curl = spawnSync("ip", ["netns", "exec", t.footprint.net.namespace, "curl", "-sS", "-m", "10", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", `http://${ip}/probe`], { encoding: "utf8", timeout: 20_000 });
    log(`  mount worker not back in place: last seen ${seen} (want probe ${FLIST_PROBE_BYTES}, qemu ${qemuBefore}); curl /probe: ${curl.status} ${curl.stdout} ${curl.stderr.trim()}`);
  }
  const wg = `w-${t.footprint.net.id}`;
  const wgPids = processesWith(`wireguard-go ${wg}`);
  if (wgPids.length) {
    log(`kill wireguard-go ${wg} (pid ${wgPids.join(",")})`);
    for (const p of wgPids) process.kill(p, "SIGKILL");
    fig.parts["wireguard-go"] = await waitUntil(async () => processesWith(`wireguard-go ${wg}`).length > 0 && (await wireguardAlive(wg)));
  }
  const qemu = (await node.hypervisor.status(t.footprint.wid)).pid!;
  log(`kill QEMU (pid ${qemu})`);
  process.kill(qemu, "SIGKILL");
  fig.parts.qemu = await waitUntil(async () => {
    const s = await node.hypervisor.status(t.footprint.wid).catch(() => undefined);
    return !!s?.pid && s.pid !== qemu && answers(t.footprint.net.namespace, ip, t.mark);
  });
  void g;
}
