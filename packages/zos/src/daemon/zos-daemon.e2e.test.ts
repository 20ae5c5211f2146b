// End to end with real components: dev chain, hub, a zosd process, QEMU micro VMs, FUSE flists,
// the bus. A twin contracts and deploys a zmachine from a signed busybox flist; the VM runs its
// entrypoint and writes to a zmount; an update adds a disk; every refusal is checked with its
// message; the daemon is SIGKILLed and the VM re-adopted; cancel leaves nothing behind.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { BusRemoteError } from "@zgrid/bus";
import { deploymentHashHex, parseDeployment, signDeployment, type Deployment, type NodeStatistics, type TwinKey } from "@zgrid/types";
import { WIREGUARD_GO_MRU } from "../engine/capacity-ledger.ts";
import { tapNameFor } from "../hypervisor/tap.ts";
import { networkNames } from "../primitives/node-paths.ts";
import { randomWgKey, startNodeFixture, type NodeFixture, type Twin } from "../testing/node-fixture.ts";
import { waitFor } from "../testing/wait-for.ts";

const MiB = 1024 ** 2;
const ENTRYPOINT = `#!/bin/sh
echo "ZGRID-ENTRYPOINT host=$(hostname) greeting=$GREETING"
echo "written-by-vm" > /data/proof.txt && sync && echo "ZGRID-DISK-OK"
exec sleep 100000
`;

let f: NodeFixture;
const wgKey = randomWgKey();

function deploymentJson(twin: number, o: { flist: string; memory?: number; cpu?: number; version?: number; extraDisk?: boolean; contractId?: number; metadata?: string }) {
  const v = o.version ?? 0;
  return {
    version: v, twin_id: twin, contract_id: o.contractId ?? 0, metadata: o.metadata ?? "e2e", description: "",
    signature_requirement: { requests: [{ twin_id: twin, required: true, weight: 1 }], weight_required: 1 },
    workloads: [
      { version: 0, name: "net", type: "network", data: { ip_range: "10.77.0.0/16", subnet: "10.77.3.0/24", wireguard_private_key: wgKey, wireguard_listen_port: 51820, peers: [] } },
      { version: 0, name: "data", type: "zmount", data: { size: 64 * MiB } },
      ...(o.extraDisk ? [{ version: v, name: "extra", type: "zmount", data: { size: 32 * MiB } }] : []),
      { version: 0, name: "vm", type: "zmachine", data: {
        flist: o.flist, network: { interfaces: [{ network: "net", ip: "10.77.3.5" }] }, size: 0,
        compute_capacity: { cpu: o.cpu ?? 1, memory: o.memory ?? 256 * MiB }, mounts: [{ name: "data", mountpoint: "/data" }],
        entrypoint: "/start.sh", env: { GREETING: "hello-zgrid", SSH_KEY: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE2e2 e2e@test" },
      } },
    ],
  };
}

/** Creates the contract (with `hash` or the deployment's own), signs with `key`, returns the signed deployment. */
async function contracted(owner: Twin, json: ReturnType<typeof deploymentJson>, o: { hash?: `0x${string}`; key?: TwinKey } = {}): Promise<Deployment> {
  const d = parseDeployment(json, { externalNetworks: ["net"] }); // "net" may be shared from the first deployment
  const contractId = await owner.client.createNodeContract({ nodeId: f.node.nodeId, deploymentHash: o.hash ?? deploymentHashHex(d) });
  return signDeployment({ ...d, contract_id: contractId }, owner.id, o.key ?? owner.key);
}


const get = (twin: Twin, contractId: number) => twin.bus.request<Deployment>(f.node.twinId, "zos.deployment.get", { contract_id: contractId }, { timeout: 20_000 });
const stateOf = (d: Deployment, name: string) => d.workloads.find((w) => w.name === name)?.result;
const settled = (d: Deployment) => d.workloads.every((w) => w.result && w.result.state !== "init");

/** Cancels the contract on chain and waits until the node has removed everything. */
async function cancelAndWait(contractId: number): Promise<void> {
  await f.user.client.cancelContract(contractId);
  await waitFor(`contract ${contractId} deprovisioned`, () => get(f.user, contractId), (x) => x.workloads.every((w) => w.result?.state === "deleted"));
}

async function refused(twin: Twin, command: string, payload: unknown): Promise<BusRemoteError> {
  try {
    await twin.bus.request(f.node.twinId, command, payload, { timeout: 20_000 });
  } catch (e) {
    assert.ok(e instanceof BusRemoteError, `expected a typed remote error, got ${String(e)}`);
    return e;
  }
  throw new Error(`${command} was accepted`);
}

describe("zos node daemon end to end", { timeout: 600_000 }, () => {
  before(async () => {
    f = await startNodeFixture({ entrypoint: ENTRYPOINT });
    await f.startNode();
  });
  after(async () => {
    await f?.stop();
  });

  let deployment: Deployment;
  let qemuPid: number | undefined;

  test("deploys a zmachine: entrypoint runs, env and hostname applied, zmount written", async () => {
    deployment = await contracted(f.user, deploymentJson(f.user.id, { flist: f.flistUrl }));
    const ack = await f.user.bus.request<{ accepted: boolean }>(f.node.twinId, "zos.deployment.deploy", deployment, { timeout: 20_000 });
    assert.equal(ack.accepted, true);
    const d = await waitFor("workloads to settle", () => get(f.user, deployment.contract_id), settled);
    for (const w of d.workloads) assert.equal(w.result?.state, "ok", `${w.name}: ${w.result?.message}`);
    const vm = stateOf(d, "vm")?.data as { ip: string; console: string; id: string };
    assert.equal(vm.ip, "10.77.3.5");
    const consoleText = await waitFor("the entrypoint marker", async () => (existsSync(vm.console) ? readFileSync(vm.console, "utf8") : ""), (t) => t.includes("ZGRID-DISK-OK"));
    assert.match(consoleText, /ZGRID-ENTRYPOINT host=vm greeting=hello-zgrid/);
    const disk = (stateOf(d, "data")?.data as { path: string }).path;
    const proof = spawnSync("debugfs", ["-R", "cat /proof.txt", disk], { encoding: "utf8" }).stdout;
    assert.equal(proof.trim(), "written-by-vm");
    qemuPid = (await f.hypervisor.status(vm.id)).pid;
    assert.ok(qemuPid, "qemu runs");
    const changes = await f.user.bus.request<Array<{ name: string; state: string }>>(f.node.twinId, "zos.deployment.changes", { contract_id: d.contract_id });
    assert.ok(changes.some((c) => c.name === "vm" && c.state === "init") && changes.some((c) => c.name === "vm" && c.state === "ok"));
  });

  test("another twin can neither read nor change the deployment", async () => {
    const e = await refused(f.stranger, "zos.deployment.get", { contract_id: deployment.contract_id });
    assert.equal(e.code, "DEPLOYMENT_NOT_FOUND");
    const list = await f.stranger.bus.request<Deployment[]>(f.node.twinId, "zos.deployment.list", {});
    assert.equal(list.length, 0);
    const e2 = await refused(f.stranger, "zos.deployment.update", { ...deployment, version: 1 });
    assert.equal(e2.code, "TWIN_MISMATCH");
  });

  test("refusals say what was wrong", async () => {
    // each case its own metadata: the chain refuses two live contracts with the same (node, hash)
    let n = 0;
    const base = () => deploymentJson(f.user.id, { flist: f.flistUrl, metadata: `refusal-${n++}` });
    // wrong hash on the contract
    const wrongHash = await contracted(f.user, base(), { hash: `0x${"ab".repeat(32)}` });
    assert.match((await refused(f.user, "zos.deployment.deploy", wrongHash)).message, /holds hash 0xabab.*the deployment hashes to/);
    // forged signature: the stranger's key under the user's twin id
    const forged = await contracted(f.user, base(), { key: f.stranger.key });
    const fe = await refused(f.user, "zos.deployment.deploy", forged);
    assert.equal(fe.code, "SIGNATURE");
    assert.match(fe.message, /does not match the deployment/);
    // the user's signed deployment sent by another twin
    const good = await contracted(f.user, base());
    assert.match((await refused(f.stranger, "zos.deployment.deploy", good)).message, /belongs to twin \d+ but the request came from twin \d+/);
    // replay of an accepted deployment
    assert.equal((await refused(f.user, "zos.deployment.deploy", deployment)).code, "DEPLOYMENT_CONFLICT");
    // invalid: cpu 0
    const bad = base();
    bad.workloads[2]!.data = { ...(bad.workloads[2]!.data as object), compute_capacity: { cpu: 0, memory: 256 * MiB } } as never;
    const ve = await refused(f.user, "zos.deployment.deploy", bad);
    assert.equal(ve.code, "VALIDATION");
    assert.match(ve.message, /workload 'vm' \(zmachine\): data.compute_capacity.cpu = 0/);
    // too big for the node
    const huge = await contracted(f.user, deploymentJson(f.user.id, { flist: f.flistUrl, memory: 512 * 1024 * MiB, metadata: "huge" }));
    const ce = await refused(f.user, "zos.deployment.deploy", huge);
    assert.equal(ce.code, "INSUFFICIENT_CAPACITY");
    assert.match(ce.message, /mru needs 512(\.\d+)? GiB, .* free/); // + the network's wireguard-go (8 MiB)
    // contract of another node
    const other = parseDeployment(base());
    const otherId = await f.user.client.createNodeContract({ nodeId: f.grid.nodeId1, deploymentHash: deploymentHashHex(other) });
    const oe = await refused(f.user, "zos.deployment.deploy", signDeployment({ ...other, contract_id: otherId }, f.user.id, f.user.key));
    assert.match(oe.message, new RegExp(`is for node ${f.grid.nodeId1}, not this node`));
    for (const id of [wrongHash, forged, good, huge].map((d) => d.contract_id).concat(otherId)) await f.user.client.cancelContract(id);
  });

  test("an unsigned flist on a node that requires signatures is refused", async () => {
    const json = deploymentJson(f.user.id, { flist: f.unsignedFlistUrl, metadata: "unsigned" });
    json.workloads[0]!.data = { ...(json.workloads[0]!.data as object), subnet: "10.77.4.0/24", wireguard_listen_port: 51821 } as never;
    json.workloads[0]!.name = "net2";
    (json.workloads[2]!.data as { network: { interfaces: Array<{ network: string; ip: string }> } }).network.interfaces = [{ network: "net2", ip: "10.77.4.5" }];
    const d = await contracted(f.user, json);
    await f.user.bus.request(f.node.twinId, "zos.deployment.deploy", d);
    const r = await waitFor("vm to fail", () => get(f.user, d.contract_id), settled);
    assert.equal(stateOf(r, "vm")?.state, "error");
    assert.match(stateOf(r, "vm")?.message ?? "", /refused: .*is not signed/);
    await cancelAndWait(d.contract_id);
  });

  /** Deploys a single-VM deployment on the shared network "net" and waits until it settles. */
  async function deployVm(name: string, ip: string, data: Record<string, unknown>) {
    const json = deploymentJson(f.user.id, { flist: f.flistUrl, metadata: name });
    json.workloads = json.workloads.filter((w) => w.type === "zmachine");
    json.workloads[0]!.name = name;
    json.workloads[0]!.data = { ...(json.workloads[0]!.data as object), mounts: [], network: { interfaces: [{ network: "net", ip }] }, ...data } as never;
    const d = await contracted(f.user, json);
    await f.user.bus.request(f.node.twinId, "zos.deployment.deploy", d);
    return { d, settled: await waitFor(`${name} to settle`, () => get(f.user, d.contract_id), settled) };
  }

  test("bad images are refused with a reason: missing flist, no entrypoint", async () => {
    const missing = await deployVm("vm404", "10.77.3.20", { flist: `${f.hub.url}/flists/${f.user.key.address}/nope.fl` });
    assert.equal(stateOf(missing.settled, "vm404")?.state, "error");
    assert.match(stateOf(missing.settled, "vm404")?.message ?? "", /nope\.fl.*(404|not found)/i);
    const noEntry = await deployVm("vmbare", "10.77.3.21", { flist: f.noEntrypointFlistUrl, entrypoint: "" });
    assert.equal(stateOf(noEntry.settled, "vmbare")?.state, "error");
    assert.match(stateOf(noEntry.settled, "vmbare")?.message ?? "", /has no entrypoint/);
    for (const x of [missing, noEntry]) await cancelAndWait(x.d.contract_id);
  });

  test("a VM whose app keeps failing is restarted by its policy (on-failure:1), then stopped with the exit status as the reason", async () => {
    const { d } = await deployVm("crashy", "10.77.3.22", { entrypoint: ["/bin/sh", "-c", "exit 3"], restart: { policy: "on-failure", maxRetries: 1 } });
    const r = await waitFor("monitor to give up", () => get(f.user, d.contract_id), (x) => stateOf(x, "crashy")?.state === "error", 180_000);
    assert.match(stateOf(r, "crashy")?.message ?? "", /^the app exited with status 3 \(restart policy on-failure:1, restarted 1 times\)$/);
    assert.match((stateOf(r, "crashy") as { data?: { console?: string } } | undefined)?.data?.console ?? "", /console\.log$/, "the console stays named in error state");
    await cancelAndWait(d.contract_id);
  });

  test("garbage over the bus gets typed errors and never crashes the daemon", async () => {
    const payloads: unknown[] = [null, "deploy", 42, [], { workloads: "x" }, { twin_id: f.user.id, signature_requirement: {}, workloads: [{ type: "zmachine", data: { compute_capacity: { cpu: 1e308 } } }] }, { contract_id: -1 }, { contract_id: "1" }];
    for (const command of ["zos.deployment.deploy", "zos.deployment.update", "zos.deployment.get", "zos.deployment.changes"]) {
      for (const p of payloads) {
        const e = await refused(f.user, command, p);
        assert.ok(["VALIDATION", "DEPLOYMENT_NOT_FOUND"].includes(e.code), `${command} ${JSON.stringify(p)} -> ${e.code}: ${e.message}`);
      }
    }
    assert.equal(stateOf(await get(f.user, deployment.contract_id), "vm")?.state, "ok", "still serving");
  });

  test("an update adds a disk", async () => {
    const next = parseDeployment(deploymentJson(f.user.id, { flist: f.flistUrl, version: 1, extraDisk: true, contractId: deployment.contract_id }));
    await f.user.client.updateNodeContract(deployment.contract_id, { deploymentHash: deploymentHashHex(next) });
    await f.user.bus.request(f.node.twinId, "zos.deployment.update", signDeployment(next, f.user.id, f.user.key));
    const d = await waitFor("extra disk", () => get(f.user, deployment.contract_id), (x) => stateOf(x, "extra")?.state === "ok");
    assert.equal(d.version, 1);
    assert.equal(stateOf(d, "vm")?.state, "ok");
    assert.ok(existsSync((stateOf(d, "extra")?.data as { path: string }).path));
    deployment = d;
  });

  test("the node reports itself, its statistics and its contracts' used resources to the chain", async () => {
    const node = await f.grid.admin.getNode(f.node.nodeId);
    assert.equal(node.farmId, f.grid.farmId);
    assert.ok(node.resources.cru >= 1n && node.resources.mru > 0n && node.resources.sru > 0n);
    assert.ok(node.lastUptimeReport > 0n, "uptime reported");
    const contract = await f.grid.admin.getContract(deployment.contract_id);
    assert.equal(contract.used.cru, 1n);
    assert.equal(contract.used.mru, BigInt(256 * MiB + WIREGUARD_GO_MRU), "the VM's memory and the network's wireguard-go");
    const stats = await f.user.bus.request<NodeStatistics>(f.node.twinId, "zos.statistics.get", {});
    assert.equal(stats.used.cru, 1);
    // Free capacity is what the node itself would still accept: vCPUs after overcommit, memory after the reserve.
    assert.equal(stats.free.cru, stats.total.cru * 4 - stats.used.cru);
    assert.equal(stats.free.mru, Math.max(0, stats.total.mru - stats.system.mru - stats.used.mru));
    assert.equal(stats.users.deployments, 1);
    assert.deepEqual(await f.user.bus.request(f.node.twinId, "zos.network.list_private_ips", { network_name: "net" }), ["10.77.3.5"]);
    assert.ok((await f.user.bus.request<string[]>(f.node.twinId, "zos.system.node_features_get", {})).includes("zmachine"));
  });

  test("grace period pauses the VM; funds back resume it", async () => {
    const wid = `${f.user.id}-${deployment.contract_id}-vm`;
    const balance = await f.user.client.balanceOf();
    await f.user.client.transfer(f.stranger.key.address, balance);
    await f.grid.chain.advanceTime(3600);
    assert.equal((await f.grid.admin.settle(deployment.contract_id)).paid, false);
    await waitFor("vm paused", () => get(f.user, deployment.contract_id), (d) => stateOf(d, "vm")?.state === "paused");
    assert.equal((await f.hypervisor.status(wid)).state, "paused");
    await f.stranger.client.transfer(f.user.key.address, balance);
    assert.equal((await f.grid.admin.settle(deployment.contract_id)).paid, true);
    await waitFor("vm resumed", () => get(f.user, deployment.contract_id), (d) => stateOf(d, "vm")?.state === "ok");
    assert.equal((await f.hypervisor.status(wid)).state, "running");
  });

  test("SIGKILLed daemon: the VM keeps running and is re-adopted", async () => {
    f.killNode();
    assert.doesNotThrow(() => process.kill(qemuPid!, 0), "qemu survives the daemon");
    await f.startNode();
    const d = await get(f.user, deployment.contract_id);
    assert.equal(stateOf(d, "vm")?.state, "ok");
    assert.equal((await f.hypervisor.status(`${f.user.id}-${deployment.contract_id}-vm`)).pid, qemuPid, "same QEMU process");
  });

  test("a tampered block in the store is refused", async () => {
    const blocksDir = join(f.hubBlocksDir, "blocks");
    // Flat `<id>` (what released rfs reads, the hub's default) or sharded `<hh>/<id>`.
    const blocks = readdirSync(blocksDir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? readdirSync(join(blocksDir, e.name)).map((b) => join(blocksDir, e.name, b)) : [join(blocksDir, e.name)]));
    for (const b of blocks) {
      const bytes = readFileSync(b);
      bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] ?? 0) ^ 0xff;
      writeFileSync(b, bytes);
    }
    const json = deploymentJson(f.user.id, { flist: f.flistUrl, metadata: "tampered" });
    json.workloads = json.workloads.filter((w) => w.name !== "net" && w.name !== "data");
    (json.workloads[0]!.data as { mounts: unknown[] }).mounts = [];
    json.workloads[0]!.name = "vm2";
    (json.workloads[0]!.data as { network: { interfaces: Array<{ network: string; ip: string }> } }).network.interfaces = [{ network: "net", ip: "10.77.3.6" }];
    // a fresh cache, or the node would serve the verified blocks it already holds
    spawnSync("sh", ["-c", `rm -rf ${join(f.node.dataDir, "cache", "blocks")}/*`]);
    const d = await contracted(f.user, json);
    await f.user.bus.request(f.node.twinId, "zos.deployment.deploy", d);
    const r = await waitFor("vm2 to fail", () => get(f.user, d.contract_id), settled);
    assert.equal(stateOf(r, "vm2")?.state, "error");
    assert.match(stateOf(r, "vm2")?.message ?? "", /refused: .*(hash|EIO)/);
    await cancelAndWait(d.contract_id);
  });

  test("cancelling the contract removes the VM, disks, taps, mounts and network", async () => {
    const wid = `${f.user.id}-${deployment.contract_id}-vm`;
    const disk = (stateOf(deployment, "data")?.data as { path: string }).path;
    await f.user.client.cancelContract(deployment.contract_id);
    await waitFor("deprovision", () => get(f.user, deployment.contract_id), (x) => x.workloads.every((w) => w.result?.state === "deleted"));
    // gone, or a zombie: QEMU daemonizes, and PID 1 here reaps orphans lazily (PLATFORM.md)
    assert.ok(!runningProcess(qemuPid!), "qemu is gone");
    assert.ok(!existsSync(disk), "zmount file removed");
    const n = networkNames(f.node.nodeId, f.user.id, "net", f.node.account);
    const links = spawnSync("ip", ["-br", "link"], { encoding: "utf8" }).stdout;
    for (const name of [n.bridge, n.vethHost, tapNameFor(wid)]) assert.ok(!links.includes(name), `${name} removed`);
    assert.ok(!existsSync(`/run/netns/${n.namespace}`), "namespace removed");
    assert.ok(!readFileSync("/proc/self/mountinfo", "utf8").includes(join(f.node.dataDir, "mnt")), "flist unmounted");
    assert.deepEqual(await f.hypervisor.list(), [], "no VM state left");
  });
});

/** True when `pid` exists and is not a zombie. */
function runningProcess(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}
