import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { LocalGridError } from "@zgrid/client";
import { upLocalGrid } from "./local-grid.ts";
import { MAX_VM_NODES, stopVmNodeMachines } from "./local-vm-nodes.ts";

test("zgrid up --vm-nodes / --node-memory: a bad count, size or no underlay is refused before anything starts", async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), "zgrid-vmn-"));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  for (const [o, re] of [
    [{ vmNodes: MAX_VM_NODES + 1 }, /--vm-nodes 5: give 0 to 4/],
    [{ vmNodes: -1 }, /--vm-nodes -1/],
    [{ vmNodes: 1.5 }, /--vm-nodes 1.5/],
    [{ vmNodes: 1, underlay: false }, /needs the underlay bridge/],
    [{ nodeMemoryGiB: 2 }, /--node-memory 2: give 3 to 1024 GiB per node/],
    [{ nodeMemoryGiB: 4.5 }, /--node-memory 4.5/],
  ] as const) {
    await assert.rejects(upLocalGrid({ dataDir, nodes: 0, ...o }), (e: unknown) => e instanceof LocalGridError && re.test(e.message));
  }
  assert.ok(!existsSync(join(dataDir, "host.pid")), "no grid host was started");
});

test("zgrid down powers off only the recorded VM node machines: a pid that is not that QEMU is left alone", async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), "zgrid-vmn-"));
  const other = spawn("sleep", ["60"], { stdio: "ignore" });
  t.after(() => {
    other.kill("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
  });
  mkdirSync(join(dataDir, "vm-nodes"));
  // a stale record: the pid now belongs to another program; a hostile tap name is not passed to ip
  writeFileSync(join(dataDir, "vm-nodes", "machines.json"), JSON.stringify([
    { pid: other.pid, disk: join(dataDir, "vm-nodes", "node-0.raw"), tap: "zgtestv0" },
    { pid: 1, disk: "/", tap: "x" }, { pid: 99999999, disk: "/d", tap: "-rf; reboot" },
  ]));
  assert.deepEqual(stopVmNodeMachines(dataDir), []);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(other.exitCode, null, "the other process still runs");
  assert.ok(!existsSync(join(dataDir, "vm-nodes", "machines.json")), "the record is gone");
  assert.deepEqual(stopVmNodeMachines(dataDir), [], "twice is fine");
});
