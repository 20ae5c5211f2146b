// zdb namespaces end to end on a real zosd, through the `zgrid` command (SDK → chain contract →
// bus → node): a busybox VM on the node writes and reads a user-mode namespace over its private
// network (RESP spoken by `printf | nc` inside the guest); from this host, redis-cli writes a
// seq-mode namespace on the node's address with its password (a wrong one refused) and reads the
// VM's key through the VM's network; zosd SIGKILLed and restarted by the local grid: both
// namespaces still hold their data, the VM reads on; `zgrid zdb rm` leaves no data, no forwarder.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import type { LocalGridInfo, VmInfo, ZdbInfo } from "@zgrid/client";
import { isAlive } from "./local-grid/local-grid.ts";
import { waitFor as waitUntil } from "./cli-e2e-helpers.ts";

// Written at the end of the hfix session; the VM lock queue never let it run green before the
// deadline, so it stays out of the suite until it has: ZGRID_E2E_PENDING=1 runs it (see /work/notes/hfix.md).
const PENDING = process.env.ZGRID_E2E_PENDING === "1" ? false : "not yet run green (hfix): set ZGRID_E2E_PENDING=1";
const ZGRID = fileURLToPath(new URL("../bin/zgrid.ts", import.meta.url));
let dataDir: string;

function zgrid(...args: string[]) {
  const r = spawnSync(process.execPath, [ZGRID, "--data-dir", dataDir, "--json", ...args], { encoding: "utf8", timeout: 300_000, env: { ...process.env, ZGRID_LOG_LEVEL: "warn" } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function ok<T>(...args: string[]): T {
  const r = zgrid(...args);
  assert.equal(r.code, 0, `zgrid ${args.join(" ")} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

const waitFor = <T>(what: string, fn: () => T, good: (v: T) => boolean, timeoutMs = 90_000): Promise<T> => waitUntil(what, fn, good, timeoutMs);

/** redis-cli (Debian's redis-tools), optionally inside a network namespace; raw replies, one per line. */
function redis(netns: string | undefined, host: string, port: number, ...cmds: string[][]): string {
  const input = cmds.map((c) => c.map((a) => `"${a}"`).join(" ")).join("\n") + "\n";
  const argv = ["redis-cli", "--no-raw", "-h", host, "-p", String(port)];
  const r = netns ? spawnSync("ip", ["netns", "exec", netns, ...argv], { input, encoding: "utf8", timeout: 20_000 }) : spawnSync(argv[0]!, argv.slice(1), { input, encoding: "utf8", timeout: 20_000 });
  return r.stdout + r.stderr;
}

/**
 * The guest's client: RESP requests built with printf, sent with busybox nc to the zdb endpoint on
 * the VM's gateway. Finds its namespace by NSLIST (the owner's, seen from its own network), writes
 * a key, then reads it every 2 s, printing `ZDB-GET <round> <reply>` on the console.
 */
const GUEST_SCRIPT = [
  `resp() { printf '*%d\\r\\n' $#; for a in "$@"; do printf '$%d\\r\\n%s\\r\\n' \${#a} "$a"; done; }`,
  `gw=$(ip route | awk '/default/ {print $3}')`,
  `ask() { { "$@"; resp QUIT; } | nc -w 3 $gw 9900 | tr -d '\\r' | grep -v '^[*$]' | tr '\\n' ' '; }`,
  `ns=""; while [ -z "$ns" ]; do ns=$(ask resp NSLIST | awk '{print $1}'); [ -z "$ns" ] && sleep 1; done`,
  `echo "ZDB-NS $ns"`,
  `w() { resp SELECT $ns; resp SET greeting hello-from-the-vm; resp GET greeting; }`,
  `echo "ZDB-SET $(ask w)"`,
  `r() { resp SELECT $ns; resp GET greeting; }`,
  `n=0; while :; do n=$((n+1)); echo "ZDB-GET $n $(ask r)"; sleep 2; done`,
].join("; ");

describe("zdb on a real zosd through the CLI", { skip: PENDING, timeout: 900_000 }, () => {
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), "zgrid-zdb-e2e-"));
  });
  after(() => {
    spawnSync(process.execPath, [ZGRID, "--data-dir", dataDir, "down"], { stdio: "ignore", timeout: 120_000 });
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("a VM writes and reads its namespace; seq mode + password from the host; data survives a zosd SIGKILL; rm leaves nothing", async () => {
    const info = ok<LocalGridInfo>("up", "--nodes", "1");
    const node = info.nodes[0]!;
    // the VM makes the private network `default` on the node; the zdb is exposed in it
    const vm = ok<VmInfo>("vm", "deploy", "client", "--node", String(node.nodeId), "--env", `ZS=${GUEST_SCRIPT}`, "--entrypoint", '/bin/sh -c eval$IFS"$ZS"');
    const user = ok<ZdbInfo>("zdb", "create", "cache", "--size", "64M", "--node", String(node.nodeId), "--network", "default");
    assert.equal(user.mode, "user");
    const inNet = user.endpoints.find((e) => e.network === "default");
    assert.ok(inNet, `an endpoint in the VM's network: ${JSON.stringify(user.endpoints)}`);
    const console = () => ok<{ console: string }>("vm", "console", "client", "--lines", "400").console;
    // inside the VM: NSLIST found it, SET + GET over the private network
    const written = await waitFor("the VM's write", console, (c) => /ZDB-SET .*hello-from-the-vm/.test(c), 120_000);
    assert.match(written, new RegExp(`ZDB-NS ${user.namespace}`));
    // the VM's key, read from this host through the VM's network (same forwarder the VM uses)
    assert.match(redis(vm.namespace, inNet.address, inNet.port, ["SELECT", user.namespace], ["GET", "greeting"]), /hello-from-the-vm/);

    // seq mode with a password, on the node's own address (over the underlay)
    const seq = ok<ZdbInfo>("zdb", "create", "log", "--size", "16M", "--mode", "seq", "--password", "s3cret", "--node", String(node.nodeId));
    const onNode = seq.endpoints.find((e) => !e.network && e.address === node.address);
    assert.ok(onNode, `an endpoint on the node's address ${node.address}: ${JSON.stringify(seq.endpoints)}`);
    assert.match(redis(undefined, onNode.address, onNode.port, ["SELECT", seq.namespace, "wrong"], ["SET", "", "x"]), /Access denied: wrong password/);
    const ids = redis(undefined, onNode.address, onNode.port, ["SELECT", seq.namespace, "s3cret"], ["SET", "", "first"], ["SET", "", "second"]);
    assert.doesNotMatch(ids, /ERR/, ids);
    // seq ids are 4-byte little-endian; redis-cli shows "\x00\x00\x00\x00" and "\x01\x00\x00\x00"
    assert.match(ids, /\\x01\\x00\\x00\\x00/, ids);
    assert.ok(existsSync(join(node.dataDir, "zdb", user.namespace)) && existsSync(join(node.dataDir, "zdb", seq.namespace)));

    // SIGKILL zosd: the local grid starts it again; the namespaces come back with their data
    const before = ok<{ nodes: Array<{ pid: number }> }>("status").nodes[0]!.pid;
    process.kill(before, "SIGKILL");
    const restarted = await waitFor("zosd restarted", () => ok<{ nodes: Array<{ pid: number; alive: boolean }> }>("status").nodes[0]!, (n) => n.pid !== before && n.alive);
    await waitFor("the seq namespace after the restart", () => redis(undefined, onNode.address, onNode.port, ["SELECT", seq.namespace, "s3cret"], ["GET", "\\x01\\x00\\x00\\x00"]), (s) => s.includes("second"));
    const seenBefore = Number(/ZDB-GET (\d+) [^\n]*\n(?![\s\S]*ZDB-GET)/.exec(console())?.[1] ?? 0);
    const after = await waitFor("the VM reading after the restart", console, (c) => [...c.matchAll(/ZDB-GET (\d+) .*hello-from-the-vm/g)].some((m) => Number(m[1]) > seenBefore + 1));
    assert.ok(after.includes("hello-from-the-vm"));
    assert.ok(isAlive(restarted.pid));
    const listed = ok<ZdbInfo[]>("zdb", "ls");
    assert.deepEqual(listed.map((z) => [z.name, z.state]).sort(), [["cache", "ok"], ["log", "ok"]]);

    // delete: the data, the forwarder and the endpoint are gone
    ok("zdb", "rm", "cache");
    ok("zdb", "rm", "log");
    assert.deepEqual(existsSync(join(node.dataDir, "zdb")) ? readdirSync(join(node.dataDir, "zdb")) : [], []);
    const forwarders = () => spawnSync("pgrep", ["-af", "socat"], { encoding: "utf8" }).stdout.split("\n").filter((l) => l.includes(join(node.vmStateDir, "zdb")));
    await waitFor("no zdb forwarder left", forwarders, (l) => l.length === 0, 20_000);
    assert.doesNotMatch(redis(undefined, onNode.address, onNode.port, ["SELECT", seq.namespace, "s3cret"], ["GET", "\\x01\\x00\\x00\\x00"]), /second/);
    ok("vm", "rm", "client");
  });
});
