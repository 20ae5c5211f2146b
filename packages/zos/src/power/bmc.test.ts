import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { magicPacket } from "@zgrid/types";
import { startBmc, type BmcEvent } from "./bmc.ts";
import { POWER_OFF_EXIT_CODE } from "./power-switch.ts";

// The BMC on the loopback NIC (MAC 00:00:00:00:00:00) of this namespace, on a free port; the
// "node" is a tiny process that says ready and powers off like zosd does.
test("the BMC powers the node on for a magic packet naming its MAC only, and sees it power off", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zbmc-"));
  const events: BmcEvent[] = [];
  const lines: string[] = [];
  const node = `console.log("ready"); setTimeout(() => process.exit(${POWER_OFF_EXIT_CODE}), 300)`;
  // port 0: the kernel's pick (a random fixed port collided with other UDP sockets now and then)
  const bmc = await startBmc({ nic: "lo", stateDir: dir, command: [process.execPath, ["-e", node]], on: false, port: 0, onEvent: (e) => events.push(e), output: (l) => lines.push(l) });
  t.after(async () => { await bmc.stop(); rmSync(dir, { recursive: true, force: true }); });
  const sock = createSocket("udp4");
  t.after(() => sock.close());
  const send = (bytes: Uint8Array) => new Promise<void>((r) => sock.send(bytes, bmc.port, "127.0.0.1", () => r()));
  const until = async (f: () => boolean) => { for (let i = 0; i < 100 && !f(); i++) await new Promise((r) => setTimeout(r, 50)); assert.ok(f()); };

  assert.equal(bmc.state, "off");
  await send(magicPacket("52:54:00:00:00:01"));
  await send(new Uint8Array(200).fill(0xff));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(bmc.state, "off", "another MAC or garbage never powers it on");
  await send(magicPacket("00:00:00:00:00:00"));
  await until(() => lines.includes("ready"));
  assert.equal(bmc.state, "on");
  await until(() => events.some((e) => e.bmc === "off"));
  assert.deepEqual(events.map((e) => e.bmc), ["listening", "wake", "on", "off"]);
  assert.deepEqual(events.at(-1), { bmc: "off", code: POWER_OFF_EXIT_CODE, poweredOff: true });
  assert.equal(bmc.state, "off");
});

test("with restart, a crashed node is started again (its init), a power-off stays off", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zbmc-"));
  const events: BmcEvent[] = [];
  // first run crashes (exit 1), the second powers off
  const flag = join(dir, "crashed");
  const node = `const fs = require("node:fs"); if (!fs.existsSync(${JSON.stringify(flag)})) { fs.writeFileSync(${JSON.stringify(flag)}, ""); process.exit(1); } setTimeout(() => process.exit(${POWER_OFF_EXIT_CODE}), 200)`;
  const bmc = await startBmc({ nic: "lo", stateDir: dir, command: [process.execPath, ["-e", node]], on: true, restart: true, port: 0, onEvent: (e) => events.push(e), output: () => undefined });
  t.after(async () => { await bmc.stop(); rmSync(dir, { recursive: true, force: true }); });
  for (let i = 0; i < 100 && !events.some((e) => e.bmc === "off" && e.poweredOff); i++) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 1200));
  assert.deepEqual(events.map((e) => e.bmc === "off" ? `off ${e.code}` : e.bmc), ["on", "listening", "off 1", "on", `off ${POWER_OFF_EXIT_CODE}`]);
  assert.equal(bmc.state, "off");
});
