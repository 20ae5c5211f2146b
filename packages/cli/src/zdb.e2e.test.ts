// zdb namespaces end to end on a real zosd, through the `zgrid` command (SDK → chain contract →
// bus → node). A busybox VM on the node is the Redis client inside the private network: RESP built
// with printf, sent with busybox nc to the zdb endpoint on its gateway; it writes and reads a
// user-mode namespace, appends to a seq-mode one with its password and is refused with a wrong
// one. From this host, redis-cli (Debian) reads the VM's data through the VM's network and on the
// node's address, fills the seq namespace up to its size limit (refused past it, clearly), then:
// zosd SIGKILLed (the local grid starts it again), then the node's zdb processes all killed at
// once (zosd and its forwarders, as a node that went down): both times every namespace answers
// with its data and the VM reads on. `zgrid zdb rm` leaves no data, no forwarder, no namespace.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { LocalGridInfo, VmInfo, ZdbInfo } from "@zgrid/client";
import { isAlive } from "./local-grid/local-grid.ts";
import { waitFor, ZGRID_BIN, zgridRunner } from "./cli-e2e-helpers.ts";

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
 * The guest's Redis client: RESP requests built with printf, sent with busybox nc to the zdb
 * endpoint on the VM's gateway (each `ask` = one connection, half-closed after its requests).
 * Waits until NSLIST (the owner's namespaces, seen from its own network) shows both, then:
 * user mode SET + GET (`ZDB-SET`), seq mode with a wrong password (`ZDB-DENIED`) and with the
 * right one, SET of an empty key (`ZDB-SEQ`, the reply in hex: the assigned 4-byte id), and then
 * reads the user key every 2 s (`ZDB-GET <round> <reply>`).
 */
const GUEST_SCRIPT = [
  `resp() { printf '*%d\\r\\n' $#; for a in "$@"; do printf '$%d\\r\\n%s\\r\\n' \${#a} "$a"; done; }`,
  `gw=$(ip route | awk '/default/ {print $3}')`,
  `ask() { { "$@"; resp QUIT; } | nc -w 5 $gw 9900 | tr -d '\\r' | grep -v '^[*$]' | tr '\\n' ' '; }`,
  `askhex() { { "$@"; resp QUIT; } | nc -w 5 $gw 9900 | od -An -tx1 | tr -s ' \\n' '  '; }`,
  `user=""; log=""; while [ -z "$user" ] || [ -z "$log" ]; do l=$(ask resp NSLIST); user=$(echo "$l" | tr ' ' '\\n' | grep -e '-cache$'); log=$(echo "$l" | tr ' ' '\\n' | grep -e '-log$'); sleep 1; done`,
  `echo "ZDB-NS $user $log"`,
  `w() { resp SELECT $user; resp SET greeting hello-from-the-vm; resp GET greeting; }`,
  `echo "ZDB-SET $(ask w)"`,
  `d() { resp SELECT $log wrong; }`,
  `echo "ZDB-DENIED $(ask d)"`,
  `s() { resp SELECT $log s3cret; resp SET '' seq-from-the-vm; }`,
  `echo "ZDB-SEQ $(askhex s)"`,
  `r() { resp SELECT $user; resp GET greeting; }`,
  `n=0; while :; do n=$((n+1)); echo "ZDB-GET $n $(ask r)"; sleep 2; done`,
].join("; ");

describe("zdb on a real zosd through the CLI", { timeout: 900_000 }, () => {
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), "zgrid-zdb-e2e-"));
  });
  after(() => {
    spawnSync(process.execPath, [ZGRID_BIN, "--data-dir", dataDir, "down"], { stdio: "ignore", timeout: 120_000 });
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("both modes from a VM on the private network; password; size limit; data survives a zosd SIGKILL and a node restart; rm leaves nothing", async () => {
    const info = ok<LocalGridInfo>("up", "--nodes", "1");
    const node = info.nodes[0]!;
    // on a busy machine the node may take a moment to answer its first status request
    await waitFor("the node answering", () => ok<Array<{ up: boolean }>>("nodes", "ls"), (ns) => ns.length === 1 && ns.every((n) => n.up), 90_000);
    // the VM makes the private network `default` on the node; the zdbs are exposed in it
    const vm = ok<VmInfo>("vm", "deploy", "client", "--node", String(node.nodeId), "--env", `ZS=${GUEST_SCRIPT}`, "--entrypoint", '/bin/sh -c eval$IFS"$ZS"');
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

    // inside the VM: user mode SET + GET, seq mode refused with a wrong password, id 0 assigned with the right one
    const guest = await waitFor("the VM's writes", console, (c) => /ZDB-GET 1 /.test(c), 150_000);
    assert.match(guest, new RegExp(`ZDB-NS ${user.namespace} ${seq.namespace}`));
    assert.match(guest, /ZDB-SET \+OK greeting hello-from-the-vm \+OK/);
    assert.match(guest, /ZDB-DENIED -Access denied: wrong password/);
    // +OK\r\n (SELECT) then $4\r\n 00 00 00 00 \r\n: the first sequential id
    assert.match(guest, /ZDB-SEQ\s+2b 4f 4b 0d 0a 24 34 0d 0a 00 00 00 00 0d 0a 2b 4f 4b/);

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

    const zdbDir = join(node.vmStateDir, "zdb");
    // the forwarders' main processes (socat forks one child per connection, in its process group)
    const forwarders = () => {
      const ps = spawnSync("ps", ["-C", "socat", "-o", "pid=,ppid=,args="], { encoding: "utf8" }).stdout.split("\n").filter((l) => l.includes(zdbDir)).map((l) => l.trim().split(/\s+/).map(Number));
      const pids = new Set(ps.map(([pid]) => pid));
      return ps.filter(([, ppid]) => !pids.has(ppid)).map(([pid]) => pid as number);
    };
    const readsOn = async (what: string) => {
      await waitFor(`the seq namespace ${what}`, () => redis(undefined, onNode.address, onNode.port, sel, ["GET", "\\x01\\x00\\x00\\x00"], ["DBSIZE"]), (s) => /first[\s\S]*\(integer\) 4/.test(s));
      const seenBefore = Math.max(0, ...[...console().matchAll(/ZDB-GET (\d+)/g)].map((m) => Number(m[1])));
      await waitFor(`the VM reading ${what}`, console, (c) => [...c.matchAll(/ZDB-GET (\d+) \+OK hello-from-the-vm/g)].some((m) => Number(m[1]) > seenBefore + 1));
    };
    const restartOf = async (kill: (pid: number) => void) => {
      const was = ok<{ nodes: Array<{ pid: number }> }>("status").nodes[0]!.pid;
      kill(was);
      const now = await waitFor("zosd restarted", () => ok<{ nodes: Array<{ pid: number; alive: boolean }> }>("status").nodes[0]!, (n) => n.pid !== was && n.alive, 90_000);
      assert.ok(isAlive(now.pid));
    };

    // 1. zosd SIGKILLed: the forwarder outlives it and is adopted; the namespaces come back with their data
    const fwd = forwarders();
    assert.equal(fwd.length, 1, `one forwarder (the twin's network): ${fwd}`);
    await restartOf((pid) => process.kill(pid, "SIGKILL"));
    await readsOn("after a zosd SIGKILL");
    assert.deepEqual(forwarders(), fwd, "the same forwarder, adopted");

    // 2. the node's zdb processes all gone at once (zosd and its forwarders): started again, data intact
    await restartOf((pid) => {
      process.kill(pid, "SIGKILL");
      for (const f of fwd) process.kill(-f, "SIGKILL"); // each forwarder leads its process group
    });
    await waitFor("a new forwarder", forwarders, (f) => f.length === 1 && f[0] !== fwd[0], 60_000);
    await readsOn("after the node's processes were killed");
    const listed = ok<ZdbInfo[]>("zdb", "ls");
    assert.deepEqual(listed.map((z) => [z.name, z.state]).sort(), [["cache", "ok"], ["log", "ok"]]);

    // delete: the data, the forwarder and the namespace are gone
    ok("zdb", "rm", "cache");
    ok("zdb", "rm", "log");
    assert.deepEqual(existsSync(join(node.dataDir, "zdb")) ? readdirSync(join(node.dataDir, "zdb")) : [], []);
    await waitFor("no zdb forwarder left", forwarders, (l) => l.length === 0, 20_000);
    assert.match(redis(undefined, onNode.address, onNode.port, sel), /Namespace not found/);
    ok("vm", "rm", "client");
  });
});
