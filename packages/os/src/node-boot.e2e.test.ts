// E2E (issue 19): a blank QEMU machine network-boots the zgrid image whose release is the REAL node
// release (this checkout + Node + guest kernel + the Debian system root, built by `zgrid release
// build --system`), mounts it verified and lazily, runs zosd under the upgrader chrooted in an
// overlay on RAM, waits until the farmer funds its account, registers in the farm with its measured
// capacity, and runs a zmachine a twin deploys on it through the SDK (one small container-mode VM:
// QEMU TCG nested inside the TCG node, emulation inside emulation, so minutes); a reboot is the
// same node (same id, nothing formatted) that re-adopts the deployment and runs the VM again, and
// the disk holds only the identity seed and zosd's own data (no OS files).
// Root, QEMU TCG, VM lock; opt-in: ZGRID_OS_NODE_E2E=1 flock /tmp/zgrid-vm.lock node --test <this file>
// (ZGRID_OS_NODE_RELEASE_DIR + ZGRID_OS_NODE_PREBUILD=1: build the release first, outside the lock.)
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { startTestGrid, type TestGrid } from "@zgrid/chain/testing";
import { connectGrid, type Grid } from "@zgrid/client";
import { pushFlist, startHub, type Hub } from "@zgrid/flist";
import { buildBusyboxRoot, publishFlist } from "@zgrid/zos/testing";
import { twinKeyFromPrivateKey, type TwinKey } from "@zgrid/types";
import { buildRelease, type ReleaseManifest } from "@zgrid/upgrader";
import { formatBootParams, parseBootParams } from "./boot/boot-params.ts";
import { startBootServer, type BootServer } from "./server/boot-server.ts";
import { ensureBootImage } from "./server/image-paths.ts";
import { bootMachine, createBootNetwork, hostTscKhz, type BootRun } from "./testing/blank-machine.ts";

const ROOT = new URL("../../..", import.meta.url).pathname;
const SKIP = process.env.ZGRID_OS_NODE_E2E === "1" ? false : "opt-in (ZGRID_OS_NODE_E2E=1): a full node boot under TCG takes many minutes";
const NODE_MS = 15 * 60_000;
/** The nested zmachine: provisioning and its app's first line, QEMU TCG inside the TCG node. */
const NESTED_MS = 12 * 60_000;
const ENTRYPOINT = `#!/bin/sh
echo "ZGRID-NESTED-APP host=$(hostname) kernel=$(uname -r) greeting=$GREETING"
exec sleep 100000
`;

function systemRoot(): string {
  return execFileSync("bash", [join(ROOT, "packages/os/scripts/build-system-root.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim().split("\n").pop()!;
}

/**
 * The node release of this checkout, built into `fallback`; or, with ZGRID_OS_NODE_RELEASE_DIR, kept
 * there across runs (its signing key beside it) so a run under the VM lock does not spend minutes
 * packing: build it first with ZGRID_OS_NODE_PREBUILD=1 (no VM, no lock), delete the dir after
 * changing the checkout.
 */
async function nodeRelease(fallback: string): Promise<{ dir: string; key: TwinKey; flistPath: string; manifest: ReleaseManifest; reused: boolean }> {
  const dir = process.env.ZGRID_OS_NODE_RELEASE_DIR ?? fallback;
  const keyFile = join(dir, "release-key");
  const manifestPath = join(dir, "zgrid-1.0.0.json");
  if (process.env.ZGRID_OS_NODE_RELEASE_DIR && existsSync(keyFile) && existsSync(manifestPath)) {
    const key = twinKeyFromPrivateKey(readFileSync(keyFile, "utf8").trim() as `0x${string}`);
    return { dir, key, flistPath: join(dir, "zgrid-1.0.0.fl"), manifest: (JSON.parse(readFileSync(manifestPath, "utf8")) as { manifest: ReleaseManifest }).manifest, reused: true };
  }
  const raw = randomBytes(32);
  const key = twinKeyFromPrivateKey(raw);
  const built = await buildRelease({ root: ROOT, version: "1.0.0", outDir: dir, key, stateSchema: 1, system: systemRoot() });
  writeFileSync(keyFile, `0x${raw.toString("hex")}\n`, { mode: 0o600 });
  return { dir, key, flistPath: built.flistPath, manifest: built.manifest, reused: false };
}

async function until<T>(what: string, ms: number, fn: () => Promise<T | undefined> | T | undefined, log: () => string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await Promise.resolve(fn()).catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms / 1000} s; console tail:\n${log().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

test("a blank machine network-boots the node release, registers in its farm with measured capacity, runs a deployed zmachine; reboot = same node, VM again", { timeout: 60 * 60_000, skip: SKIP }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-node-boot-"));
  const cleanups: Array<() => Promise<void> | void> = [() => rmSync(dir, { recursive: true, force: true })];
  t.after(async () => {
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
  });
  const imageDir = ensureBootImage();
  let started = Date.now();
  const release = await nodeRelease(join(dir, "release"));
  t.diagnostic(`release 1.0.0: ${release.manifest.flist.files} files, ${(release.manifest.flist.bytes / 2 ** 20).toFixed(0)} MiB, ${release.reused ? "prebuilt" : "built"} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (process.env.ZGRID_OS_NODE_PREBUILD === "1") return;
  const key = release.key;
  const prefix = `10.${90 + (randomBytes(1)[0]! % 8)}.${randomBytes(1)[0]! % 250}`;
  const net = await createBootNetwork(`zn${randomBytes(2).toString("hex")}`, prefix);
  cleanups.push(() => net.destroy());
  const grid: TestGrid = await startTestGrid({ host: net.hostAddress });
  cleanups.push(() => grid.chain.stop());
  const hub: Hub = await startHub({ dataDir: join(dir, "hub"), port: 0, host: net.hostAddress, blockAuth: "open" });
  cleanups.push(() => hub.close());
  await pushFlist({ hub: hub.url, flist: release.flistPath, stores: [`dir://${join(release.dir, "blocks")}`], key });
  const releaseName = `${key.address}/zgrid-1.0.0.fl`;

  const a = grid.chain.addresses;
  const params = parseBootParams(`zgrid.farm=${grid.farmId} zgrid.rpc=${grid.chain.rpcUrl} zgrid.hub=${hub.url} zgrid.keys=${key.address} zgrid.release=${releaseName} zgrid.contracts=${a.token},${a.registry},${a.contracts},${a.governance}`);
  const tsc = hostTscKhz();
  const server: BootServer = await startBootServer({
    imageDir, kernelLine: formatBootParams(params, releaseName), extraWords: tsc ? `tsc_early_khz=${tsc}` : "", host: net.hostAddress,
    dhcp: { iface: net.bridge, range: [`${prefix}.100`, `${prefix}.150`], router: net.hostAddress, stateDir: join(dir, "dnsmasq") },
  });
  cleanups.push(() => server.close());
  const disk = join(dir, "node.raw");
  writeFileSync(disk, "");
  truncateSync(disk, 4 * 1024 ** 3);

  const boot = (n: number) => {
    const power = new AbortController();
    const consoleFile = join(dir, `boot${n}.log`);
    const run: Promise<BootRun> = bootMachine({ disk, tap: net.tap, console: consoleFile, timeoutMs: NODE_MS, memoryMiB: 3072, signal: power.signal,
      marks: { network: /zgrid-boot: network/, mounted: /zgrid-boot: release .* mounted/, setup: /zgrid-node: release 1\.0\.0/, upgrader: /"ready":true/ } });
    cleanups.push(async () => { power.abort(); await run; });
    const log = () => (existsSync(consoleFile) ? readFileSync(consoleFile, "utf8") : "");
    return { power, run, log };
  };

  // 1. first boot: the node says its account has no funds; the farmer funds it; it registers
  started = Date.now();
  const first = boot(1);
  const account = await until("the node asks to be funded", NODE_MS, () => /zgrid-node: account (0x[0-9a-fA-F]{40}) has no funds/.exec(first.log())?.[1], first.log);
  t.diagnostic(`asked for funds after ${((Date.now() - started) / 1000).toFixed(0)} s`);
  await grid.admin.walletClient!.sendTransaction({ to: account as `0x${string}`, value: 10n ** 20n, chain: null });
  const nodeId = await until("the node registers on chain", NODE_MS, async () => {
    const twin = await grid.admin.twinIdByAccount(account as `0x${string}`);
    return twin ? (await grid.admin.nodeIdByTwin(twin)) || undefined : undefined;
  }, first.log);
  const registeredS = (Date.now() - started) / 1000;
  const node = await grid.admin.getNode(nodeId);
  assert.equal(node.farmId, grid.farmId, "registered in the farm of the kernel line");
  // measured, not declared: 3 GiB of RAM, the 4 GiB cache disk
  assert.ok(node.resources.cru >= 1n && node.resources.mru > 2n * 1024n ** 3n && node.resources.mru <= 3n * 1024n ** 3n, `mru ${node.resources.mru}`);
  assert.ok(node.resources.sru + node.resources.hru > 2n * 1024n ** 3n, `disk capacity ${node.resources.sru}/${node.resources.hru}`);
  t.diagnostic(`registered as node ${nodeId} ${((registeredS)).toFixed(0)} s after power-on: ${JSON.stringify(node.resources, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))}`);
  await until("the upgrader reports zosd ready", 5 * 60_000, () => (/"ready":true/.test(first.log()) ? true : undefined), first.log);
  // lazy: the node fetched a fraction of its release (the first process reports it every 30 s)
  const fetched = await until("the first process reports the bytes fetched", 90_000, () => {
    const all = [...first.log().matchAll(/release blocks fetched so far: (\d+) bytes \((\d+) verify failures\)/g)];
    const last = all.at(-1);
    return last && last[2] === "0" ? Number(last[1]) : undefined;
  }, first.log);
  assert.ok(fetched > 0 && fetched < release.manifest.flist.bytes / 2, `fetched ${fetched} of ${release.manifest.flist.bytes}`);
  t.diagnostic(`power-on to registered ${registeredS.toFixed(0)} s; release bytes fetched ${fetched} of ${release.manifest.flist.bytes} (${((100 * fetched) / release.manifest.flist.bytes).toFixed(1)}%)`);

  // 2. a twin deploys a small container-mode zmachine on this node through the SDK; it runs there
  const user = grid.chain.twins[3]!;
  const root = join(dir, "vm-root");
  await buildBusyboxRoot(root, ENTRYPOINT);
  mkdirSync(join(dir, "vm-flist"));
  const flist = await publishFlist({ root, tmp: join(dir, "vm-flist"), name: "nested", hub, key: twinKeyFromPrivateKey(user.privateKey) });
  const sdk: Grid = await connectGrid({ rpcUrl: grid.chain.rpcUrl, addresses: a, privateKey: user.privateKey });
  cleanups.push(() => sdk.close());
  started = Date.now();
  const progress = (l: string) => void process.stderr.write(`# vm deploy +${((Date.now() - started) / 1000).toFixed(0)} s: ${l}\n`);
  const vm = await sdk.vms.deploy({ name: "nested", node: nodeId, flist: flist.url, cpu: 1, memory: 256, entrypoint: "/start.sh", env: { GREETING: "hello-from-a-booted-node" } },
    { settleMs: NESTED_MS, waitMs: NESTED_MS, onProgress: progress }).catch((e: unknown) => {
    throw new Error(`the zmachine did not run on the booted node: ${(e as Error).message}\nnode console tail:\n${first.log().slice(-6000)}`);
  });
  // the deploy returns once init has exec'd the entrypoint; its first line follows (a shell
  // starting under emulation inside emulation takes seconds)
  await until("the nested app's first line", NESTED_MS, async () => {
    const l = (await sdk.vms.logs("nested")).log;
    return /ZGRID-NESTED-APP host=nested kernel=\S+ greeting=hello-from-a-booted-node/.test(l) ? l : undefined;
  }, () => first.log());
  const appS = (Date.now() - started) / 1000;
  const exec = await sdk.vms.exec("nested", ["cat", "/proc/cmdline"], { timeoutSec: 300 });
  assert.equal(exec.exit_code, 0, `exec in the nested VM: ${JSON.stringify(exec)}`);
  assert.match(exec.stdout, /console=ttyS0/, "exec runs inside the VM (its kernel line)");
  t.diagnostic(`zmachine ${vm.name} (contract ${vm.contractId}, ${vm.ip}) ran its app ${appS.toFixed(0)} s after the deploy started; exec answered`);
  process.stderr.write(`# step 2 passed: the nested zmachine ran its app ${appS.toFixed(0)} s after the deploy started; exec: ${exec.stdout.trim().slice(0, 200)}\n`);
  first.power.abort();
  const r1 = await first.run;
  t.diagnostic(`first boot marks (ms): ${JSON.stringify(r1.marks)}`);

  // 3. reboot: same disk, same node id, nothing formatted; the disk holds no OS files
  const second = boot(2);
  await until("the node is up again", NODE_MS, () => (/"ready":true/.test(second.log()) ? true : undefined), second.log);
  assert.match(second.log(), /kept from this disk/);
  assert.doesNotMatch(second.log(), /formatting/);
  assert.equal(await grid.admin.nodeIdByTwin(await grid.admin.twinIdByAccount(account as `0x${string}`)), nodeId, "reboot = same node");
  // re-adopted: the node knows the deployment from its disk and runs the VM again (the VM's state
  // dir, console included, was in RAM: a marker in it is from this boot)
  await until("the zmachine runs again after the reboot", NESTED_MS, async () => {
    const l = (await sdk.vms.logs("nested")).log;
    return /ZGRID-NESTED-APP host=nested kernel=\S+ greeting=hello-from-a-booted-node/.test(l) ? l : undefined;
  }, second.log);
  assert.equal((await sdk.vms.get("nested")).state, "ok");
  second.power.abort();
  await second.run;
  const listing = execFileSync("debugfs", ["-R", "ls -p /", disk], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  const top = listing.split("\n").map((l) => l.split("/")[5]).filter((n) => n && n !== "." && n !== "..").sort();
  assert.deepEqual(top, ["lost+found", "zos"], `the disk's top level is only zosd's data: ${top.join(", ")}`);
  for (const os of ["usr", "bin", "lib", "etc", "opt", "node_modules", "packages"]) assert.ok(!top.includes(os));
});
