// E2E (issue 19): `zgrid up --vm-nodes 1 --nodes 0` runs the local grid with one node that is a QEMU
// machine network-booting this checkout's node release from the local boot server over the
// underlay; it registers in the local farm; `zgrid down` powers it off and leaves no QEMU, tap or
// dnsmasq behind. Root, TCG, VM lock, ~15-20 min (release build + a TCG node boot): opt-in,
//   ZGRID_VM_NODES_E2E=1 flock -w 1800 /tmp/zgrid-vm.lock node --test packages/cli/src/vm-nodes.e2e.test.ts
// (A zmachine on such a node is covered by packages/os/src/node-boot.e2e.test.ts.)
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { LocalGridInfo } from "@zgrid/client";
import { ZGRID_BIN } from "./cli-e2e-helpers.ts";

const SKIP = process.env.ZGRID_VM_NODES_E2E === "1" ? false : "opt-in (ZGRID_VM_NODES_E2E=1): a network-booted TCG node takes 15+ minutes";

function zgrid(dataDir: string, timeoutMs: number, ...args: string[]) {
  const r = spawnSync(process.execPath, [ZGRID_BIN, "--data-dir", dataDir, "--json", ...args], { encoding: "utf8", timeout: timeoutMs, env: { ...process.env, ZGRID_LOG_LEVEL: "warn" } });
  assert.equal(r.status, 0, `zgrid ${args.join(" ")} exited ${r.status}\n${r.stdout}\n${r.stderr.slice(-4000)}`);
  return JSON.parse(r.stdout) as unknown;
}

test("zgrid up --vm-nodes 1: a network-booted machine joins the local farm; down leaves nothing", { timeout: 40 * 60_000, skip: SKIP }, (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), "zgrid-vm-nodes-"));
  t.after(() => {
    spawnSync(process.execPath, [ZGRID_BIN, "--data-dir", dataDir, "down"], { timeout: 180_000 });
    rmSync(dataDir, { recursive: true, force: true });
  });
  const info = zgrid(dataDir, 35 * 60_000, "up", "--nodes", "0", "--vm-nodes", "1") as LocalGridInfo;
  assert.equal(info.nodes.length, 0);
  assert.equal(info.vmNodes?.length, 1, JSON.stringify(info));
  const vm = info.vmNodes![0]!;
  assert.ok(vm.nodeId > 0 && /^0x[0-9a-fA-F]{40}$/.test(vm.account));
  const node = (zgrid(dataDir, 120_000, "nodes", "ls", "--all", "--wait", "30") as Array<{ nodeId: number; farmId: number; up: boolean }>).find((n) => n.nodeId === vm.nodeId);
  assert.equal(node?.farmId, info.farmId, "registered in the local farm");
  // a TCG node takes longer than a listing's default 4 s to accept a new client's first request
  assert.equal(node?.up, true, "its zosd answers over the bus");
  zgrid(dataDir, 180_000, "down");
  assert.equal(spawnSync("pgrep", ["-f", join(dataDir, "vm-nodes")]).status, 1, "no QEMU or dnsmasq of this grid left");
  assert.equal(spawnSync("ip", ["link", "show", vm.tap], { stdio: "ignore" }).status, 1, "the machine's tap is gone");
});
