// Boots a real QEMU VM (TCG, busybox root) and drives its guest agent over virtio-serial (issue 15):
// exec with output, exit status, env, working dir and user like the app; a time limit; bounded
// output; attacks on the protocol (garbage, oversized frames, more execs than allowed at once);
// graceful stop with the image's StopSignal (a file the app writes in its handler is on the disk).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chown, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Hypervisor } from "./hypervisor.ts";
import { FrameDecoder, encodeFrame } from "./agent-protocol.ts";
import { buildBusyboxRoot } from "./test-fixtures.ts";

// the app: writes a file in its USR1 handler (its StopSignal) and exits 0
const APP = `#!/bin/sh
trap 'echo stopped-by-signal > /data/stopped.txt; exit 0' USR1
echo APP-READY
while true; do sleep 0.2; done
`;

function readFromDisk(image: string, path: string): string {
  return execFileSync("debugfs", ["-R", `cat ${path}`, image], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
}

describe("frame decoder", () => {
  test("splits frames, skips garbage and oversized headers", () => {
    const d = new FrameDecoder();
    const big = Buffer.alloc(7);
    big.write("ZGo", 0, "latin1");
    big.writeUInt32BE(1 << 30, 3);
    const frames = d.push(Buffer.concat([Buffer.from("garbage"), encodeFrame("H", Buffer.from("zagent 1")), big, encodeFrame("x", Buffer.alloc(9))]));
    assert.deepEqual(frames.map((f) => f.type), ["H", "x"]);
    assert.ok(d.dropped > 0);
    const whole = encodeFrame("o", Buffer.from("abcdef"));
    assert.deepEqual(d.push(whole.subarray(0, 5)), []);
    assert.equal(d.push(whole.subarray(5))[0]!.payload.toString(), "abcdef");
  });
});

describe("guest agent (real QEMU, TCG)", { timeout: 170_000 }, () => {
  let work: string;
  let hv: Hypervisor;
  let disk: string;
  const id = "ga-app";

  before(async () => {
    work = await mkdtemp("/tmp/zga-");
    const root = join(work, "root");
    await buildBusyboxRoot(root, APP);
    await mkdir(join(root, "home/app"), { recursive: true });
    await writeFile(join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n");
    await writeFile(join(root, "etc/group"), "root:x:0:\napp:x:1000:\n");
    await chown(join(root, "data"), 1000, 1000);
    hv = new Hypervisor({ stateDir: join(work, "s"), accel: "tcg" });
    disk = join(work, "root.img");
    await hv.start({
      id, cpu: 1, memoryMiB: 160, rootShare: root, rootDisk: { path: disk, sizeBytes: 64 << 20 }, hostname: "ga",
      env: { GREETING: "hello" }, entrypoint: ["/bin/sh", "/start.sh"], workdir: "/data", user: "app", stopSignal: 10,
    });
    await hv.waitForConsole(id, /APP-READY/, 90_000);
  });

  after(async () => {
    for (const vm of await hv.list()) await hv.delete(vm).catch(() => undefined);
    if (work) await rm(work, { recursive: true, force: true });
  });

  test("exec: output, exit status, the app's env, working dir and user; overrides", async () => {
    const r = await hv.exec(id, { argv: ["sh", "-c", "echo $GREETING $(pwd) $(id -u); echo oops >&2; exit 7"], timeoutMs: 20_000 });
    assert.deepEqual({ code: r.code, stdout: r.stdout, stderr: r.stderr, timedOut: r.timedOut, truncated: r.truncated },
      { code: 7, stdout: "hello /data 1000\n", stderr: "oops\n", timedOut: false, truncated: false });
    const root = await hv.exec(id, { argv: ["sh", "-c", "echo $X $(pwd) $(id -u)"], user: "root", workdir: "/tmp", env: { X: "y" }, timeoutMs: 20_000 });
    assert.equal(root.stdout, "y /tmp 0\n");
    const missing = await hv.exec(id, { argv: ["no-such-cmd"], timeoutMs: 20_000 });
    assert.equal(missing.code, 127);
    assert.match(missing.stderr, /no-such-cmd not found/);
  });

  test("a time limit kills the command; output past the bound is cut and the command killed", async () => {
    const slow = await hv.exec(id, { argv: ["sleep", "60"], timeoutMs: 1_500 });
    assert.equal(slow.timedOut, true);
    assert.equal(slow.signal, 9);
    const flood = await hv.exec(id, { argv: ["yes"], timeoutMs: 60_000, maxOutputBytes: 10_000 });
    assert.equal(flood.truncated, true);
    assert.equal(flood.stdout.length, 10_000);
    assert.equal(flood.timedOut, false);
  });

  test("attacks: garbage, an oversized frame, a malformed exec and too many execs at once; the agent keeps serving", async () => {
    const hugeHeader = Buffer.alloc(7);
    hugeHeader.write("ZGe", 0, "latin1");
    hugeHeader.writeUInt32BE(0xffff_fff0, 3);
    const raw = hv.agent(id);
    {
      await raw.sendRaw(Buffer.concat([Buffer.from("\x00\xffZZZG garbage"), hugeHeader, Buffer.alloc(70_000, 0x41), encodeFrame("e", Buffer.from("short")), encodeFrame("q")]));
      const after = await raw.exec({ argv: ["echo", "still-here"], timeoutMs: 20_000 });
      assert.equal(after.stdout, "still-here\n");
      const many = await Promise.allSettled(Array.from({ length: 20 }, () => raw.exec({ argv: ["sleep", "1"], timeoutMs: 30_000 })));
      const ok = many.filter((m) => m.status === "fulfilled" && m.value.code === 0).length;
      const refused = many.filter((m) => m.status === "rejected" && /too many execs/.test(String(m.reason))).length;
      assert.equal(ok, 16);
      assert.equal(refused, 4);
    }
    assert.equal((await hv.exec(id, { argv: ["true"], timeoutMs: 20_000 })).code, 0);
  });

  test("stop delivers the image's StopSignal; what the handler wrote is on the disk", async () => {
    await hv.stop(id);
    const tail = await hv.consoleTail(id, 4096);
    assert.match(tail, /zgrid-init: app exited with status 0/, tail);
    assert.equal(readFromDisk(disk, "/rw/data/stopped.txt").trim(), "stopped-by-signal");
  });
});
