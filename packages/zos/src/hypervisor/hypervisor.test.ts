// Boots real QEMU VMs (TCG) from a busybox root: entrypoint, env, hostname, zmount persistence,
// tap networking, pause/resume, crash restart by the monitor, re-adoption by a new process.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { setTimeout as delay } from "node:timers/promises";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { Hypervisor } from "./hypervisor.ts";
import { VmMonitor, type MonitorEvent } from "./vm-monitor.ts";
import { buildBusyboxRoot, createTestBridge, type TestBridge } from "./test-fixtures.ts";
import { linkExists, tapNameFor } from "./tap.ts";
import { isVmProcess, readVmPid } from "./vm-process.ts";
import type { VmSpecInput } from "./vm-spec.ts";

const indexUrl = new URL("./index.ts", import.meta.url).href;
const NC_PORT = 7300 + Math.floor(Math.random() * 500);

const ENTRY = `#!/bin/sh
echo "ENTRY host=$(hostname) FOO=$FOO"
echo boot >> /data/boots; echo x >> /rootfile; sync
echo "BOOTS=$(wc -l < /data/boots) ROOTW=$(wc -l < /rootfile)"
echo "MOUNTS pts=$(grep -c devpts /proc/mounts) shm=$(grep -c ' /dev/shm ' /proc/mounts) hosts=$(grep -c zvm-one /etc/hosts) path=$PATH"
echo "KEYS=$(cat /root/.ssh/authorized_keys | tr '\n' '|')"
for i in 1 2 3 4 5; do echo "hello-from-$(hostname)" | nc -w 2 "$HOST_IP" "$NC_PORT" && break; sleep 1; done
exec sleep 100000
`;

function ping(ip: string): Promise<boolean> {
  return new Promise((resolve) => execFile("ping", ["-c", "1", "-W", "1", ip], (err) => resolve(!err)));
}

async function pingUntil(ip: string, timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) if (await ping(ip)) return true;
  return false;
}

/** Runs a small "daemon" in a fresh node process driving the same state dir. */
function daemonProcess(code: string): ChildProcess {
  return spawn(process.execPath, ["--input-type=module", "-e", `import * as zos from ${JSON.stringify(indexUrl)};\n${code}`], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, ZGRID_LOG_LEVEL: "warn" },
  });
}

async function readLine(child: ChildProcess): Promise<string> {
  let out = "";
  for await (const chunk of child.stdout!) {
    out += String(chunk);
    if (out.includes("\n")) break;
  }
  return out.trim();
}

describe("hypervisor (real QEMU, TCG)", { timeout: 300_000 }, () => {
  let work: string;
  let hv: Hypervisor;
  let bridge: TestBridge;
  let bridge2: TestBridge;
  let server: Server;
  const received: string[] = [];
  const children: ChildProcess[] = [];
  let spec: VmSpecInput;
  const id = "t-vm1";

  before(async () => {
    work = await mkdtemp("/tmp/zhv-");
    await buildBusyboxRoot(join(work, "root"), ENTRY);
    hv = new Hypervisor({ stateDir: join(work, "s"), accel: "tcg" });
    bridge = await createTestBridge();
    bridge2 = await createTestBridge();
    server = createServer((s) => s.on("data", (d) => received.push(String(d).trim())));
    server.listen(NC_PORT, bridge.hostIp);
    await once(server, "listening");
    spec = {
      id,
      cpu: 1,
      memoryMiB: 192,
      rootShare: join(work, "root"),
      rootDisk: { path: join(work, "root.img"), sizeBytes: 64 << 20 },
      disks: [{ path: join(work, "data.img"), mountpoint: "/data", sizeBytes: 32 << 20, keep: true }],
      network: { bridge: bridge.name, ip: `${bridge.guestIp(2)}/24`, gateway: bridge.hostIp },
      extraNetworks: [{ bridge: bridge2.name, ip: `${bridge2.guestIp(3)}/24` }],
      hostname: "zvm-one",
      env: { FOO: "bar baz 'q'", SSH_KEY: "ssh-rsa AAAAENV env@zgrid", HOST_IP: bridge.hostIp, NC_PORT: String(NC_PORT) },
      entrypoint: ["sh", "/start.sh"], // bare name: init looks it up in the root's PATH
      sshKeys: ["ssh-ed25519 AAAATEST test@zgrid"],
    };
  });

  after(async () => {
    for (const c of children) c.kill("SIGKILL");
    for (const vm of await hv.list()) {
      const pid = Number((await readFile(hv.paths(vm).pidfile, "utf8").catch(() => "0")).trim());
      if (pid > 0 && isVmProcess(pid, hv.paths(vm).pidfile)) process.kill(pid, "SIGKILL");
      await hv.delete(vm).catch(() => undefined);
    }
    server?.close();
    await bridge?.remove();
    await bridge2?.remove();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test("a VM started by a daemon that is then SIGKILLed keeps running and is adopted; entrypoint, env, hostname, network work", async () => {
    const daemon = daemonProcess(`
      const hv = new zos.Hypervisor({ stateDir: ${JSON.stringify(join(work, "s"))}, accel: "tcg" });
      const s = await hv.start(${JSON.stringify(spec)});
      console.log(JSON.stringify(s));
      setInterval(() => {}, 1000);`);
    children.push(daemon);
    const started = JSON.parse(await readLine(daemon)) as { pid: number; state: string };
    assert.equal(started.state, "running");
    daemon.kill("SIGKILL");
    await once(daemon, "exit");

    const adopted = await hv.adopt(id);
    assert.equal(adopted.pid, started.pid);
    assert.equal(adopted.state, "running");
    await hv.waitForEntrypoint(id, 60_000);
    await hv.waitForConsole(id, /zgrid-init: exec \/bin\/sh \/start.sh/, 5_000);
    const m = await hv.waitForConsole(id, /ENTRY host=(\S+) FOO=(.*)\r?\n/, 60_000);
    assert.equal(m[1], "zvm-one");
    assert.equal(m[2]?.trim(), "bar baz 'q'");
    await hv.waitForConsole(id, /BOOTS=1 ROOTW=1/, 20_000);
    await hv.waitForConsole(id, /MOUNTS pts=1 shm=1 hosts=1 path=\/usr\/local\/sbin:/, 20_000);
    await hv.waitForConsole(id, /KEYS=ssh-ed25519 AAAATEST test@zgrid\|ssh-rsa AAAAENV env@zgrid\|/, 20_000);
    assert.ok(linkExists(tapNameFor(id)), "tap exists while the VM runs");
    assert.ok(await pingUntil(bridge.guestIp(2)), "host pings the guest on its configured IP");
    assert.ok(await pingUntil(bridge2.guestIp(3)), "and on the second NIC's IP");
    const deadline = Date.now() + 30_000;
    while (!received.includes("hello-from-zvm-one") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.ok(received.includes("hello-from-zvm-one"), `guest reached the host over the tap (got ${JSON.stringify(received)})`);
  });

  test("pause and resume", async () => {
    await hv.pause(id);
    assert.equal((await hv.status(id)).state, "paused");
    await hv.resume(id);
    assert.equal((await hv.status(id)).state, "running");
    assert.ok(await pingUntil(bridge.guestIp(2), 10_000));
  });

  test("stop leaves nothing behind; a new start keeps zmount and root disk data", async () => {
    const { pid, taps } = await hv.status(id);
    assert.equal(taps.length, 2);
    await hv.stop(id);
    assert.equal((await hv.status(id)).state, "stopped");
    for (const t of taps) assert.ok(!linkExists(t), `tap ${t} removed`);
    assert.ok(!isVmProcess(pid!, "qemu"), "qemu process gone");
    assert.ok(!linkExists(tapNameFor(id)), "tap removed");
    assert.ok(!existsSync(hv.paths(id).qmpSocket) && !existsSync(hv.paths(id).pidfile), "socket and pidfile removed");
    await hv.start({ id });
    await hv.waitForConsole(id, /BOOTS=2 ROOTW=2/, 60_000);
  });

  test("the monitor restarts a killed QEMU", async () => {
    const monitor = new VmMonitor({ hypervisor: hv, intervalMs: 300 });
    const restarted: MonitorEvent[] = [];
    monitor.on("restarted", (e) => restarted.push(e));
    monitor.start();
    try {
      const { pid } = await hv.status(id);
      process.kill(pid!, "SIGKILL");
      const deadline = Date.now() + 60_000;
      while (restarted.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.equal(restarted[0]?.id, id);
      await hv.waitForConsole(id, /BOOTS=3 ROOTW=3/, 60_000);
      assert.notEqual((await hv.status(id)).pid, pid);
    } finally {
      await monitor.stop();
    }
  });

  test("a new daemon process adopts the running VM by id and stops it", async () => {
    const { pid } = await hv.status(id);
    const daemon = daemonProcess(`
      const hv = new zos.Hypervisor({ stateDir: ${JSON.stringify(join(work, "s"))}, accel: "tcg" });
      const s = await hv.adopt(${JSON.stringify(id)});
      await hv.stop(${JSON.stringify(id)});
      console.log(JSON.stringify({ adoptedPid: s.pid, after: (await hv.status(${JSON.stringify(id)})).state }));`);
    children.push(daemon);
    const out = JSON.parse(await readLine(daemon)) as { adoptedPid: number; after: string };
    assert.equal(out.adoptedPid, pid);
    assert.equal(out.after, "stopped");
    assert.ok(!isVmProcess(pid!, "qemu"));
    assert.ok(!linkExists(tapNameFor(id)));
    assert.ok(!existsSync(hv.paths(id).qmpSocket));
    await hv.delete(id);
    assert.ok(!existsSync(join(work, "root.img")), "root disk deleted");
    assert.ok(existsSync(join(work, "data.img")), "kept zmount survives delete");
  });

  // Skipped after the issue-15 guest init (zinit) landed: in the fresh-clone suite of 0bbdf81 the
  // monitor restarted this policy-less VM once (reason: entrypoint not found) and then never saw it
  // stop again within 280 s, so it never gave up. zmachines always carry a restart policy now (that
  // path is covered by guest-init.test.ts and the daemon e2e); the policy-less path needs debugging.
  test("the monitor gives up on a VM that keeps crashing and reports why", async () => {
    await hv.start({ ...spec, id: "t-bad", network: undefined, extraNetworks: [], disks: [], rootDisk: undefined, entrypoint: ["/no/such/entry"] });
    const monitor = new VmMonitor({ hypervisor: hv, intervalMs: 300, maxFailures: 2 });
    const gaveUp = once(monitor, "gave-up") as Promise<[MonitorEvent]>;
    monitor.start();
    try {
      // The monitor may already be rebooting the VM, so the waiter sees either the FATAL line or the
      // dead QEMU between boots; the monitor's reason below must name the missing entrypoint.
      await assert.rejects(hv.waitForEntrypoint("t-bad", 60_000), /entrypoint \/no\/such\/entry not found|qemu exited before the entrypoint ran/);
      // Bounded, with what the monitor saw: a fresh-clone run once hung here (restarted once, then
      // never seen stopping); it has not reproduced since, even under 4 CPU hogs, so fail loudly instead.
      const timer = new AbortController();
      const [e] = await Promise.race([
        gaveUp.finally(() => timer.abort()),
        delay(240_000, undefined, { signal: timer.signal }).then(async () => {
          throw new Error(`the monitor never gave up: failures ${JSON.stringify(monitor.failures("t-bad"))}, ` +
            `status ${JSON.stringify(await hv.status("t-bad"))}, console tail:\n${await hv.consoleTail("t-bad", 3000)}`);
        }),
      ]);
      assert.equal(e.id, "t-bad");
      assert.match(e.reason, /entrypoint \/no\/such\/entry not found/);
      const after = await hv.status("t-bad");
      assert.equal(after.desired, "stopped");
      assert.match(after.failure ?? "", /entrypoint \/no\/such\/entry not found/, "reason persisted for a restarted daemon");
    } finally {
      await monitor.stop();
      await hv.delete("t-bad");
    }
  });

  test("a QEMU of the VM left running without its pidfile is ended by the next start, which gets its tap", async () => {
    const o = { ...spec, id: "t-orphan", extraNetworks: [], disks: [], rootDisk: undefined, network: { bridge: bridge.name, ip: `${bridge.guestIp(9)}/24`, gateway: bridge.hostIp } };
    const first = await hv.start(o);
    await rm(hv.paths("t-orphan").pidfile); // lost: the hypervisor no longer sees that QEMU
    assert.equal((await hv.status("t-orphan")).state, "stopped");
    const second = await hv.start({ id: "t-orphan" });
    assert.equal(second.state, "running");
    assert.notEqual(second.pid, first.pid);
    assert.ok(!isVmProcess(first.pid!, "qemu"), "the orphan is gone");
    await hv.delete("t-orphan");
    assert.ok(!isVmProcess(second.pid!, "qemu") && !linkExists(tapNameFor("t-orphan")));
  });

  test("a tap held by another process: the start fails naming the holder, and removes what it created", async () => {
    const tap = tapNameFor("t-held");
    // a process that is not this VM's QEMU holds the VM's tap (IFF_TAP | IFF_NO_PI)
    const holder = spawn("python3", ["-c", `import fcntl,os,struct,time\nfd=os.open("/dev/net/tun",os.O_RDWR)\nfcntl.ioctl(fd,0x400454ca,struct.pack("16sH",b"${tap}",0x1002))\nprint("held",flush=True)\ntime.sleep(120)`], { stdio: ["ignore", "pipe", "inherit"] });
    children.push(holder);
    assert.equal(await readLine(holder), "held");
    const o = { ...spec, id: "t-held", extraNetworks: [], disks: [], rootDisk: undefined, network: { bridge: bridge.name, ip: `${bridge.guestIp(10)}/24` } };
    await assert.rejects(hv.start(o), (e: Error & { details?: { tapHolders?: Array<{ pid: number }> } }) => {
      assert.match(e.message, new RegExp(`qemu did not start vm t-held: tap ${tap} is held by pid ${holder.pid} \\(\\S*python3 -c`));
      assert.deepEqual(e.details?.tapHolders?.map((h) => h.pid), [holder.pid]);
      return true;
    });
    assert.equal(readVmPid(hv.paths("t-held").pidfile), undefined);
    holder.kill("SIGKILL");
    await once(holder, "exit");
    assert.ok(!linkExists(tap), "the holder's tap went with it");
    await hv.delete("t-held");
  });

  test("a failed start removes what it created", async () => {
    const bad = { ...spec, id: "t-fail", rootDisk: { path: join(work, "fail.img"), sizeBytes: 16 << 20 }, disks: [],
      network: { bridge: "zbnosuchbr0", ip: "10.213.0.9/24" } };
    await assert.rejects(hv.start(bad));
    assert.ok(!existsSync(join(work, "fail.img")), "new root disk removed");
    assert.ok(!linkExists(tapNameFor("t-fail")), "tap removed");
    assert.equal((await hv.status("t-fail")).state, "stopped");
    await hv.delete("t-fail");
  });
});
