// zdb namespaces end to end on a real zosd, through the `zgrid` command (SDK → chain contract →
// bus → node). A VM on the node runs Debian's redis-cli (the local grid's `redis` flist) inside
// the private network against the zdb endpoint on its gateway: it writes and reads a user-mode
// namespace, appends to a seq-mode one with its password and is refused with a wrong one. From
// this host, redis-cli reads the VM's data through the VM's network and on the node's address,
// fills the seq namespace up to its size limit (refused past it, clearly), and the SDK writes an
// erasure-coded object (3+2) over five more namespaces of the node. Then zosd is SIGKILLed (the
// local grid starts it again: the forwarder is adopted), then the whole node host loses its power
// (node-power-cut.ts: every process, QEMU, mount and namespace of it gone; the local grid boots it
// again): every namespace answers with its data, the VM boots anew and reads its key, the object
// reads back intact. `zgrid zdb rm` leaves no data, no forwarder, no namespace.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DeployTransaction, ErasureStore, connectGrid, localGridConnection, storageKeyOf, type LocalGridInfo, type VmInfo, type ZdbInfo } from "@zgrid/client";
import type { ZdbResult } from "@zgrid/types";
import { isAlive } from "./local-grid/local-grid.ts";
import { powerCutNodeHost } from "./local-grid/node-power-cut.ts";
import { waitFor, ZGRID_BIN, zgridRunner } from "./cli-e2e-helpers.ts";

const MiB = 1024 * 1024;
let dataDir: string;
const { ok } = zgridRunner(() => dataDir);

/** redis-cli (Debian's redis-tools), optionally inside a network namespace; raw replies, one per line. */
function redis(netns: string | undefined, host: string, port: number, ...cmds: string[][]): string {
  const input = cmds.map((c) => c.map((a) => `"${a}"`).join(" ")).join("\n") + "\n";
  const argv = ["redis-cli", "--no-raw", "-h", host, "-p", String(port)];
  const r = netns ? spawnSync("ip", ["netns", "exec", netns, ...argv], { input, encoding: "utf8", timeout: 20_000 }) : spawnSync(argv[0]!, argv.slice(1), { input, encoding: "utf8", timeout: 20_000 });
  return r.stdout + r.stderr;
}

/**
 * The guest's Redis client: Debian's redis-cli in the local grid's `redis` flist, talking to the
 * zdb endpoint on the VM's gateway (commands on stdin: one connection each). Every boot: waits
 * until NSLIST (the owner's namespaces, seen from its own network) shows both. First boot only
 * (the user key is not there yet): user mode SET + GET (`ZDB-SET`), seq mode with a wrong
 * password (`ZDB-DENIED`) and with the right one SET of an empty key and GET of the id it was
 * given (`ZDB-SEQ`: the assigned 4-byte id, the value). Then reads the user key every 2 s (`ZDB-GET <boot id> <round> <reply>`).
 */
const GUEST_SCRIPT = [
  `gw=$(ip route | awk '/default/ {print $3}')`,
  `rc() { redis-cli -h $gw -p 9900 "$@" 2>&1; }`,
  `boot=$(cut -c1-8 /proc/sys/kernel/random/boot_id)`,
  `user=""; log=""; while [ -z "$user" ] || [ -z "$log" ]; do l=$(rc --raw NSLIST); user=$(echo "$l" | grep -e '-cache$'); log=$(echo "$l" | grep -e '-log$'); sleep 1; done`,
  `echo "ZDB-NS $boot $user $log"`,
  `had=$(printf 'SELECT %s\\nGET greeting\\n' $user | rc --no-raw | tail -n 1)`,
  `if [ "$had" != '"hello-from-the-vm"' ]; then ` + [
    `echo "ZDB-SET $(printf 'SELECT %s\\nSET greeting hello-from-the-vm\\nGET greeting\\n' $user | rc --no-raw | tr '\\n' ' ')"`,
    `echo "ZDB-DENIED $(printf 'SELECT %s wrong\\n' $log | rc --no-raw | tr '\\n' ' ')"`,
    `echo "ZDB-SEQ $(printf 'SELECT %s s3cret\\nSET "" seq-from-the-vm\\nGET "\\\\x00\\\\x00\\\\x00\\\\x00"\\n' $log | rc --no-raw | tr '\\n' ' ')"`,
  ].join("; ") + "; fi",
  `n=0; while :; do n=$((n+1)); echo "ZDB-GET $boot $n $(printf 'SELECT %s\\nGET greeting\\n' $user | rc --no-raw | tr '\\n' ' ')"; sleep 2; done`,
].join("; ");

/** The VM's last read: its boot and round (0/"" before any). */
function lastRead(console: string): { boot: string; n: number } {
  const all = [...console.matchAll(/ZDB-GET (\w+) (\d+) OK "hello-from-the-vm"/g)];
  const m = all.at(-1);
  return m ? { boot: m[1] as string, n: Number(m[2]) } : { boot: "", n: 0 };
}

describe("zdb on a real zosd through the CLI", { timeout: 900_000 }, () => {
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), "zgrid-zdb-e2e-"));
  });
  after(() => {
    spawnSync(process.execPath, [ZGRID_BIN, "--data-dir", dataDir, "down"], { stdio: "ignore", timeout: 120_000 });
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("redis-cli in a VM on the private network, both modes; password; size limit; data and an erasure-coded object survive a zosd SIGKILL and a power cut of the node host; rm leaves nothing", async (t) => {
    const t0 = Date.now();
    const phase = (what: string) => t.diagnostic(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`);
    const info = ok<LocalGridInfo>("up", "--nodes", "1", "--redis");
    assert.ok(info.flists.redis, "flist redis published");
    const node = info.nodes[0]!;
    const nodeHost = info.underlay?.hosts[0];
    assert.ok(nodeHost && node.address, "the node runs in a node host on the underlay");
    // on a busy machine the node may take a moment to answer its first status request
    await waitFor("the node answering", () => ok<Array<{ up: boolean }>>("nodes", "ls"), (ns) => ns.length === 1 && ns.every((n) => n.up), 90_000);
    phase("grid up");
    // the VM makes the private network `default` on the node; the zdbs are exposed in it
    const vm = ok<VmInfo>("vm", "deploy", "client", "--flist", "redis", "--node", String(node.nodeId), "--env", `ZS=${GUEST_SCRIPT}`, "--entrypoint", '/bin/sh -c eval$IFS"$ZS"');
    const user = ok<ZdbInfo>("zdb", "create", "cache", "--size", "64M", "--node", String(node.nodeId), "--network", "default");
    assert.equal(user.mode, "user");
    const inNet = user.endpoints.find((e) => e.network === "default");
    assert.ok(inNet, `an endpoint in the VM's network: ${JSON.stringify(user.endpoints)}`);
    const seq = ok<ZdbInfo>("zdb", "create", "log", "--size", "1M", "--mode", "seq", "--password", "s3cret", "--node", String(node.nodeId));
    assert.equal(seq.mode, "seq");
    assert.ok(seq.endpoints.some((e) => e.network === "default"), `the seq namespace in the VM's network too: ${JSON.stringify(seq.endpoints)}`);
    const onNode = seq.endpoints.find((e) => !e.network && e.address === node.address);
    assert.ok(onNode, `an endpoint on the node's address ${node.address}: ${JSON.stringify(seq.endpoints)}`);
    const console = () => ok<{ console: string }>("vm", "console", "client", "--lines", "400").console;
    phase("VM and namespaces deployed");

    // inside the VM, redis-cli: user mode SET + GET, seq mode refused with a wrong password, id 0 assigned with the right one
    const guest = await waitFor("the VM's writes", console, (c) => /ZDB-GET \w+ 1 /.test(c), 150_000);
    assert.match(guest, new RegExp(`ZDB-NS (\\w+) ${user.namespace} ${seq.namespace}`));
    assert.match(guest, /ZDB-SET OK "greeting" "hello-from-the-vm" /);
    assert.match(guest, /ZDB-DENIED \(error\) Access denied: wrong password/);
    assert.match(guest, /ZDB-SEQ OK "\\x00\\x00\\x00\\x00" "seq-from-the-vm" /, "the first sequential id, read back by it");
    assert.match(guest, /ZDB-GET \w+ 1 OK "hello-from-the-vm"/);
    phase("the VM wrote and read with redis-cli");

    // from this host: the VM's key through the VM's network (the forwarder the VM uses) …
    assert.match(redis(vm.namespace, inNet.address, inNet.port, ["SELECT", user.namespace], ["GET", "greeting"]), /hello-from-the-vm/);
    // … and the seq namespace on the node's address (the underlay): password needed, VM's id 0 there
    const sel = ["SELECT", seq.namespace, "s3cret"];
    assert.match(redis(undefined, onNode.address, onNode.port, ["SELECT", seq.namespace, "wrong"], ["SET", "", "x"]), /Access denied: wrong password[\s\S]*No namespace selected/);
    assert.match(redis(undefined, onNode.address, onNode.port, ["SELECT", seq.namespace]), /protected and private/);
    assert.match(redis(undefined, onNode.address, onNode.port, sel, ["GET", "\\x00\\x00\\x00\\x00"]), /seq-from-the-vm/);
    const ids = redis(undefined, onNode.address, onNode.port, sel, ["SET", "", "first"]);
    assert.match(ids, /\\x01\\x00\\x00\\x00/, ids); // the next id, 4-byte little-endian

    // the size limit (1 MiB of values): two 400 kB values fit, the third is refused, clearly
    const big = "z".repeat(400_000);
    const filled = redis(undefined, onNode.address, onNode.port, sel, ["SET", "", big], ["SET", "", big], ["SET", "", big], ["DBSIZE"]);
    assert.match(filled, /\\x02\\x00\\x00\\x00[\s\S]*\\x03\\x00\\x00\\x00/, filled);
    assert.match(filled, /No space left on this namespace: 1200020 bytes would pass its limit of 1048576 bytes .*delete keys or grow the zdb workload's size/, filled);
    assert.match(filled, /\(integer\) 4\s*$/, `the refused write stored nothing: ${filled}`);
    assert.ok(existsSync(join(node.dataDir, "zdb", user.namespace)) && existsSync(join(node.dataDir, "zdb", seq.namespace)));

    // an erasure-coded object (3 data + 2 parity shards per block) over five namespaces of this node
    const grid = await connectGrid(localGridConnection(dataDir));
    t.after(() => grid.close());
    const ec = await new DeployTransaction({ chain: grid.chain, key: grid.key, twinId: grid.twinId, bus: grid.bus }).deploy({
      nodeId: node.nodeId, nodeTwinId: node.twinId, metadata: JSON.stringify({ test: "erasure" }),
      workloads: Array.from({ length: 5 }, (_, i) => ({ version: 0, name: `ec${i}`, type: "zdb", data: { size: 8 * MiB, mode: "user", password: "ec-pw", public: false } })),
    });
    const targets = ec.workloads.map((w) => {
      const r = w.result?.data as ZdbResult;
      const e = r.endpoints.find((x) => !x.network && x.address === node.address)!;
      return { host: e.address, port: e.port, namespace: r.namespace, password: "ec-pw" };
    });
    const store = () => new ErasureStore({ targets, k: 3, m: 2, storageKey: storageKeyOf(grid.key.privateKey), blockSize: 256 * 1024 });
    const object = randomBytes(MiB + 12_345);
    const writer = store();
    const manifest = await writer.put(object);
    writer.close();
    const blocks = manifest.blocks.length;
    const readBack = async () => {
      const s = store();
      try {
        const parts: Buffer[] = [];
        for await (const c of s.get(manifest)) parts.push(Buffer.from(c));
        return Buffer.concat(parts);
      } finally {
        s.close();
      }
    };
    /** Every shard of every block, parity included, is in its namespace. */
    const shardsHeld = () => targets.map((g) => redis(undefined, g.host, g.port, ["SELECT", g.namespace, g.password], ["DBSIZE"]).match(/\(integer\) (\d+)/)?.[1]);
    assert.deepEqual(shardsHeld(), targets.map(() => String(blocks)));
    phase("seq, size limit and the erasure-coded object written");

    const zdbDir = join(node.vmStateDir, "zdb");
    // the forwarders' main processes (socat forks one child per connection, in its process group)
    const forwarders = () => {
      const ps = spawnSync("ps", ["-C", "socat", "-o", "pid=,ppid=,args="], { encoding: "utf8" }).stdout.split("\n").filter((l) => l.includes(zdbDir)).map((l) => l.trim().split(/\s+/).map(Number));
      const pids = new Set(ps.map(([pid]) => pid));
      return ps.filter(([, ppid]) => !pids.has(ppid)).map(([pid]) => pid as number);
    };
    /** The seq data answers, and the VM reads again after `before` (its last read before the event). */
    const readsOn = async (what: string, before: { boot: string; n: number }, vmReboots: boolean) => {
      await waitFor(`the seq namespace ${what}`, () => redis(undefined, onNode.address, onNode.port, sel, ["GET", "\\x01\\x00\\x00\\x00"], ["DBSIZE"]), (s) => /first[\s\S]*\(integer\) 4/.test(s), 120_000);
      const now = await waitFor(`the VM reading ${what}`, () => lastRead(console()), (r) => (vmReboots ? r.boot !== before.boot && r.n >= 2 : r.boot === before.boot && r.n > before.n + 1), 180_000);
      return now;
    };
    const zosd = () => ok<{ nodes: Array<{ pid: number; alive: boolean }> }>("status").nodes[0]!;
    const restarted = async (was: number) => {
      const now = await waitFor("zosd restarted", zosd, (n) => n.pid !== was && n.alive, 120_000);
      assert.ok(isAlive(now.pid));
    };

    // 1. zosd SIGKILLed: the forwarder outlives it and is adopted; the namespaces come back with their data
    const fwd = forwarders();
    assert.equal(fwd.length, 1, `one forwarder (the twin's network): ${fwd}`);
    const first = zosd().pid;
    const read1 = lastRead(console());
    process.kill(first, "SIGKILL");
    await restarted(first);
    await readsOn("after a zosd SIGKILL", read1, false);
    assert.deepEqual(forwarders(), fwd, "the same forwarder, adopted");
    phase("zosd SIGKILL: data read back, forwarder adopted");

    // 2. a power cut of the whole node host: zosd, QEMU, the flist mounts, the forwarder, the
    // networks' and the node host's namespaces all gone at once; the local grid boots the node
    // host again (namespace made again, zosd started with the same command) and the node makes
    // everything again from its disk: the VM boots anew and reads its key, the data is intact
    const qemuPid = () => Number(readFileSync(join(dirname(vm.consoleLog), "qemu.pid"), "utf8").trim());
    const qemuBefore = qemuPid();
    const second = zosd().pid;
    const before = lastRead(console());
    const cut = await powerCutNodeHost({ namespace: nodeHost, zosdPid: second, dirs: [node.dataDir, node.vmStateDir] });
    t.diagnostic(`power cut: ${JSON.stringify(cut)}`);
    assert.ok(cut.killed["qemu-system-x86"], `QEMU was killed: ${JSON.stringify(cut.killed)}`);
    assert.ok(cut.killed.socat, `the forwarder was killed: ${JSON.stringify(cut.killed)}`);
    assert.ok(cut.namespaces.includes(nodeHost) && cut.namespaces.includes(vm.namespace), `the namespaces went: ${cut.namespaces}`);
    assert.ok(cut.mounts.length >= 1, "the VM's flist mount went");
    // the old processes are gone (the local grid boots the node host again at once: a new zosd may
    // already have made a new forwarder by now, so the check is by the old pids)
    // a SIGKILLed process with a big address space (QEMU's guest RAM) still exists while the kernel
    // frees it: wait for the old pids to be gone (bounded), then check each one
    await waitFor("the old processes gone", () => [qemuBefore, second, ...fwd].filter((p) => isAlive(p)), (left) => left.length === 0, 15_000).catch(() => undefined);
    assert.ok(!isAlive(qemuBefore), "the old QEMU is gone");
    assert.ok(!isAlive(second), "the old zosd is gone");
    assert.ok(fwd.every((p) => !isAlive(p)), `the old forwarder ${fwd} is gone`);
    await restarted(second);
    const now = await readsOn("after a power cut of the node host", before, true);
    t.diagnostic(`the VM read before on boot ${before.boot} and now on boot ${now.boot}`);
    assert.notEqual(qemuPid(), qemuBefore, "a new QEMU");
    assert.match(console(), new RegExp(`ZDB-NS ${now.boot} ${user.namespace} ${seq.namespace}`), "after the reboot the VM found both namespaces again");
    assert.equal(forwarders().length, 1, "a new forwarder");
    assert.deepEqual(shardsHeld(), targets.map(() => String(blocks)), "every shard is still held");
    assert.ok((await readBack()).equals(object), "the erasure-coded object reads back intact");
    const listed = ok<ZdbInfo[]>("zdb", "ls");
    assert.deepEqual(listed.map((z) => [z.name, z.state]).sort(), [["cache", "ok"], ["log", "ok"]]);
    phase("power cut: the VM rebooted and reads, seq data and the erasure-coded object intact");

    // delete: the data, the forwarder and the namespace are gone
    ok("zdb", "rm", "cache");
    ok("zdb", "rm", "log");
    await grid.contracts.cancel(ec.contract_id);
    await waitFor("the namespaces' data removed", () => (existsSync(join(node.dataDir, "zdb")) ? readdirSync(join(node.dataDir, "zdb")) : []), (l) => l.length === 0, 60_000);
    await waitFor("no zdb forwarder left", forwarders, (l) => l.length === 0, 20_000);
    assert.match(redis(undefined, onNode.address, onNode.port, sel), /Namespace not found/);
    ok("vm", "rm", "client");
    phase("removed");
  });
});
